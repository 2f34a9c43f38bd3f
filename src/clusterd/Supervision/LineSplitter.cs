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
        foreach (var b in data)
        {
            if (b == (byte)'\n')
            {
                lines.Add(Take());
            }
            else
            {
                if (_length == maxBytes)
                {
                    lines.Add(Take());
                }
                if (_length == _pending.Length)
                {
                    Array.Resize(ref _pending, Math.Min(maxBytes, Math.Max(64, _pending.Length * 2)));
                }
                _pending[_length++] = b;
            }
        }
        return lines;
    }

    public string? Flush() => _length == 0 ? null : Take();

    private string Take()
    {
        var end = _length > 0 && _pending[_length - 1] == (byte)'\r' ? _length - 1 : _length;
        var s = Encoding.UTF8.GetString(_pending, 0, end);
        _length = 0;
        return s;
    }
}
