using System.Text;

namespace Clusterd.Supervision;

/// <summary>Splits a byte stream into UTF-8 lines of at most <c>maxBytes</c>; a longer line comes out in pieces.</summary>
internal sealed class LineSplitter(int maxBytes)
{
    // Grows on demand up to maxBytes: most lines are short, and an idle worker's splitter should cost next to nothing.
    private byte[] _pending = [];
    private int _length;

    public List<string> Push(ReadOnlySpan<byte> data)
    {
        var lines = new List<string>();
        while (!data.IsEmpty)
        {
            var newline = data.IndexOf((byte)'\n');
            var text = newline < 0 ? data : data[..newline];
            while (!text.IsEmpty)
            {
                if (_length == maxBytes)
                {
                    lines.Add(Take()); // a byte that does not fit starts the next piece
                }
                if (_length == 0 && newline >= 0 && text.Length <= maxBytes)
                {
                    break; // the whole line is in data: decoded from there, not copied
                }
                var taken = Math.Min(maxBytes - _length, text.Length);
                Append(text[..taken]);
                text = text[taken..];
            }
            if (newline < 0)
            {
                break;
            }
            lines.Add(_length == 0 ? Decode(text) : Take());
            data = data[(newline + 1)..];
        }
        return lines;
    }

    public string? Flush() => _length == 0 ? null : Take();

    private void Append(ReadOnlySpan<byte> bytes)
    {
        var needed = _length + bytes.Length;
        if (needed > _pending.Length)
        {
            Array.Resize(ref _pending, Math.Min(maxBytes, Math.Max(needed, Math.Max(64, _pending.Length * 2))));
        }
        bytes.CopyTo(_pending.AsSpan(_length));
        _length = needed;
    }

    private string Take()
    {
        var line = Decode(_pending.AsSpan(0, _length));
        _length = 0;
        return line;
    }

    private static string Decode(ReadOnlySpan<byte> line) =>
        Encoding.UTF8.GetString(line.EndsWith("\r"u8) ? line[..^1] : line);
}
