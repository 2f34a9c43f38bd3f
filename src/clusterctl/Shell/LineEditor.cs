using System.Text;

namespace Clusterctl.Shell;

/// <summary>
/// A small readline for the shell, on <see cref="Console.ReadKey(bool)"/>: Left/Right, Home/End (and Ctrl-A/Ctrl-E),
/// Backspace/Delete, Ctrl-U (delete to the start), Ctrl-K (delete to the end), Ctrl-C (abandon the line), Ctrl-D
/// (leave, on an empty line), Up/Down (history) and Tab (complete; twice lists the choices). It redraws the whole
/// line on each change, which is plenty for a prompt of short commands and avoids tracking the terminal's state.
/// Long lines that wrap past the terminal's width are not handled specially.
/// </summary>
internal sealed class LineEditor(string prompt, Func<string, int, IReadOnlyList<string>> complete)
{
    private const int MaxHistory = 500;
    private readonly List<string> _history = [];
    private readonly StringBuilder _buffer = new();
    private int _cursor;

    public IReadOnlyList<string> History => _history;

    /// <summary>One edited line, or null when the user pressed Ctrl-D on an empty line.</summary>
    public string? ReadLine()
    {
        _buffer.Clear();
        _cursor = 0;
        var historyIndex = _history.Count;
        var draft = "";
        var lastWasTab = false;
        Console.Write(prompt);
        // Ctrl-C must reach us as a key (clear the line), not as SIGINT: the shell keeps running.
        var treatControlC = Console.TreatControlCAsInput;
        Console.TreatControlCAsInput = true;
        try
        {
            while (true)
            {
                var key = Console.ReadKey(intercept: true);
                var isTab = key.Key == ConsoleKey.Tab;
                var control = (key.Modifiers & ConsoleModifiers.Control) != 0;
                switch (key.Key)
                {
                    case ConsoleKey.Enter:
                        Console.WriteLine();
                        var line = _buffer.ToString();
                        Remember(line);
                        return line;
                    case ConsoleKey.D when control:
                        if (_buffer.Length == 0)
                        {
                            Console.WriteLine();
                            return null;
                        }
                        DeleteAt(_cursor);
                        break;
                    case ConsoleKey.C when control:
                        Console.WriteLine("^C");
                        _buffer.Clear();
                        _cursor = 0;
                        historyIndex = _history.Count;
                        Console.Write(prompt);
                        break;
                    case ConsoleKey.U when control:
                        _buffer.Remove(0, _cursor);
                        _cursor = 0;
                        break;
                    case ConsoleKey.K when control:
                        _buffer.Length = _cursor;
                        break;
                    case ConsoleKey.A when control:
                    case ConsoleKey.Home:
                        _cursor = 0;
                        break;
                    case ConsoleKey.E when control:
                    case ConsoleKey.End:
                        _cursor = _buffer.Length;
                        break;
                    case ConsoleKey.LeftArrow:
                        _cursor = Math.Max(0, _cursor - 1);
                        break;
                    case ConsoleKey.RightArrow:
                        _cursor = Math.Min(_buffer.Length, _cursor + 1);
                        break;
                    case ConsoleKey.Backspace:
                        if (_cursor > 0)
                        {
                            DeleteAt(--_cursor);
                        }
                        break;
                    case ConsoleKey.Delete:
                        DeleteAt(_cursor);
                        break;
                    case ConsoleKey.UpArrow when historyIndex > 0:
                        if (historyIndex == _history.Count)
                        {
                            draft = _buffer.ToString();
                        }
                        Replace(_history[--historyIndex]);
                        break;
                    case ConsoleKey.DownArrow when historyIndex < _history.Count:
                        historyIndex++;
                        Replace(historyIndex == _history.Count ? draft : _history[historyIndex]);
                        break;
                    case ConsoleKey.Tab:
                        Complete(listChoices: lastWasTab);
                        break;
                    default:
                        if (!char.IsControl(key.KeyChar))
                        {
                            _buffer.Insert(_cursor++, key.KeyChar);
                        }
                        break;
                }
                lastWasTab = isTab;
                Redraw();
            }
        }
        finally
        {
            Console.TreatControlCAsInput = treatControlC;
        }
    }

    private void Remember(string line)
    {
        if (string.IsNullOrWhiteSpace(line) || (_history.Count > 0 && _history[^1] == line))
        {
            return;
        }
        _history.Add(line);
        if (_history.Count > MaxHistory)
        {
            _history.RemoveAt(0);
        }
    }

    private void DeleteAt(int index)
    {
        if (index < _buffer.Length)
        {
            _buffer.Remove(index, 1);
        }
    }

    private void Replace(string text)
    {
        _buffer.Clear().Append(text);
        _cursor = _buffer.Length;
    }

    private void Complete(bool listChoices)
    {
        var line = _buffer.ToString();
        var wordStart = line.LastIndexOf(' ', Math.Max(0, _cursor - 1)) + 1;
        if (_cursor == 0)
        {
            wordStart = 0;
        }
        var word = line[wordStart.._cursor];
        var choices = complete(line, _cursor);
        if (choices.Count == 0)
        {
            return;
        }
        var insert = choices.Count == 1 ? choices[0] + " " : CommonPrefix(choices);
        if (insert.Length > word.Length)
        {
            _buffer.Remove(wordStart, word.Length).Insert(wordStart, insert);
            _cursor = wordStart + insert.Length;
        }
        else if (listChoices)
        {
            // Like bash: the second Tab shows what the first could not decide between.
            Console.WriteLine();
            Console.WriteLine(string.Join("  ", choices));
            Console.Write(prompt);
        }
    }

    private static string CommonPrefix(IReadOnlyList<string> choices)
    {
        var prefix = choices[0];
        foreach (var choice in choices.Skip(1))
        {
            var n = 0;
            while (n < prefix.Length && n < choice.Length && prefix[n] == choice[n])
            {
                n++;
            }
            prefix = prefix[..n];
        }
        return prefix;
    }

    /// <summary>Back to column 0, the prompt and the line, erase what is left of an older longer line, then place the cursor.</summary>
    private void Redraw()
    {
        var text = new StringBuilder("\r").Append(prompt).Append(_buffer).Append("\u001b[K\r");
        var column = prompt.Length + _cursor;
        if (column > 0)
        {
            text.Append("\u001b[").Append(column).Append('C');
        }
        Console.Write(text.ToString());
    }
}
