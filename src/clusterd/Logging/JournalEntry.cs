using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Clusterd.Logging;

/// <summary>
/// One entry in journald's native protocol (systemd.io/JOURNAL_NATIVE_PROTOCOL): <c>FIELD=value\n</c> per field, or,
/// for a value with a newline in it, <c>FIELD\n</c>, its length as a 64-bit little-endian integer, the value, <c>\n</c>.
/// </summary>
internal sealed class JournalEntry
{
    private readonly ArrayBufferWriter<byte> _buffer = new(512);

    public JournalEntry Add(string field, string value)
    {
        Encoding.ASCII.GetBytes(field, _buffer);
        if (!value.Contains('\n', StringComparison.Ordinal))
        {
            Put((byte)'=');
            Encoding.UTF8.GetBytes(value, _buffer);
        }
        else
        {
            Put((byte)'\n');
            BinaryPrimitives.WriteUInt64LittleEndian(_buffer.GetSpan(8), (ulong)Encoding.UTF8.GetByteCount(value));
            _buffer.Advance(8);
            Encoding.UTF8.GetBytes(value, _buffer);
        }
        Put((byte)'\n');
        return this;
    }

    public ReadOnlySpan<byte> Bytes => _buffer.WrittenSpan;

    public void Clear() => _buffer.ResetWrittenCount();

    private void Put(byte b)
    {
        _buffer.GetSpan(1)[0] = b;
        _buffer.Advance(1);
    }
}
