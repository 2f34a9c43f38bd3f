using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Clusterd.Control;

/// <summary>
/// How many bytes of JSON a value is, exactly as it will stand in a response, without keeping them: the writer's
/// output goes to one scratch buffer that is written over. One per connection; not thread-safe.
/// </summary>
internal sealed class JsonSize : IBufferWriter<byte>, IDisposable
{
    private readonly Utf8JsonWriter _writer;
    private byte[] _scratch = new byte[4096];
    private long _written;

    public JsonSize()
    {
        // The same writer options as JsonSerializer.SerializeToUtf8Bytes with ProtocolJsonContext (default encoder, not indented).
        _writer = new Utf8JsonWriter(this);
    }

    public int Of<T>(T value, JsonTypeInfo<T> type)
    {
        _written = 0;
        _writer.Reset(this);
        JsonSerializer.Serialize(_writer, value, type);
        _writer.Flush();
        return checked((int)_written);
    }

    public void Dispose() => _writer.Dispose();

    void IBufferWriter<byte>.Advance(int count) => _written += count;

    Memory<byte> IBufferWriter<byte>.GetMemory(int sizeHint) => Scratch(sizeHint);

    Span<byte> IBufferWriter<byte>.GetSpan(int sizeHint) => Scratch(sizeHint);

    private byte[] Scratch(int sizeHint)
    {
        if (sizeHint > _scratch.Length)
        {
            _scratch = new byte[sizeHint];
        }
        return _scratch;
    }
}
