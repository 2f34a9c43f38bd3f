using System.Buffers.Binary;

namespace Clusterd.Protocol;

/// <summary>
/// The control protocol's frame: <c>"CLSD"</c> magic, a big-endian u16 protocol version, a big-endian u32 payload
/// length, then that many bytes of UTF-8 JSON. The magic lets either side reject a stranger at once; the version
/// lets a newer client tell an older daemon apart before it parses anything; the length is capped so a peer
/// cannot make the other allocate without bound, and <see cref="ReadAsync(Stream, int, Func{CancellationToken}?, CancellationToken)"/>
/// (clusterd's, for a stranger's request) allocates only as the payload arrives; a client reads its daemon's answers
/// with <see cref="FrameReader"/>.
/// </summary>
public static class Framing
{
    public const int HeaderSize = 10;

    /// <summary>
    /// 1 MiB: the most either side reads in one frame. clusterd sends long answers (status, logs, events) as pages far
    /// below it (docs/protocol.md), and reads requests of at most <see cref="MaxRequestPayload"/>.
    /// </summary>
    public const int MaxPayload = 1 << 20;

    /// <summary>64 KiB: requests are a few hundred bytes, and clusterd reads no more per connection than this.</summary>
    public const int MaxRequestPayload = 64 << 10;

    /// <summary>The first payload buffer; it doubles as the bytes arrive, up to the announced length.</summary>
    private const int FirstPayloadBuffer = 4096;

    public static ReadOnlySpan<byte> Magic => "CLSD"u8;

    public static byte[] Encode(ReadOnlySpan<byte> payload)
    {
        if (payload.Length > MaxPayload)
        {
            throw new ProtocolException(ErrorCodes.FrameTooLarge, $"frame of {payload.Length} bytes exceeds the limit of {MaxPayload}");
        }
        var frame = new byte[HeaderSize + payload.Length];
        Magic.CopyTo(frame);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(4), ProtocolVersion.Current);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(6), (uint)payload.Length);
        payload.CopyTo(frame.AsSpan(HeaderSize));
        return frame;
    }

    public static async Task WriteAsync(Stream stream, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(Encode(payload.Span), cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }

    /// <inheritdoc cref="ReadAsync(Stream, int, Func{CancellationToken}?, CancellationToken)"/>
    public static Task<byte[]?> ReadAsync(Stream stream, CancellationToken cancellationToken) =>
        ReadAsync(stream, MaxPayload, frameStarted: null, cancellationToken);

    /// <summary>
    /// Reads one frame's payload. Returns null on a clean end of stream before the first header byte; throws
    /// <see cref="ProtocolException"/> on a bad magic, an unsupported version, a length over <paramref name="maxPayload"/>
    /// or a truncated frame.
    /// </summary>
    /// <param name="frameStarted">
    /// Called once the first byte is in; returns the token for the rest of the frame. A server waits long for a request
    /// to begin (<paramref name="cancellationToken"/>: its idle deadline) but not for one that has begun.
    /// </param>
    public static async Task<byte[]?> ReadAsync(Stream stream, int maxPayload, Func<CancellationToken>? frameStarted, CancellationToken cancellationToken)
    {
        if (await ReadHeaderAsync(stream, new byte[HeaderSize], maxPayload, frameStarted, cancellationToken) is not { } header)
        {
            return null;
        }
        var (length, inFrame) = header;
        var payload = new byte[Math.Min(length, FirstPayloadBuffer)];
        var read = 0;
        while (read < length)
        {
            if (read == payload.Length)
            {
                Array.Resize(ref payload, (int)Math.Min(length, 2L * payload.Length));
            }
            var n = await stream.ReadAsync(payload.AsMemory(read), inFrame);
            if (n == 0)
            {
                throw TruncatedPayload(length, read);
            }
            read += n;
        }
        return payload;
    }

    /// <summary>
    /// Reads and validates a header into <paramref name="header"/>: the payload's length and the token for reading it, or
    /// null on a clean end of stream before the first byte.
    /// </summary>
    internal static async Task<(int Length, CancellationToken InFrame)?> ReadHeaderAsync(Stream stream, byte[] header, int maxPayload,
        Func<CancellationToken>? frameStarted, CancellationToken cancellationToken)
    {
        var got = await stream.ReadAsync(header, cancellationToken);
        if (got == 0)
        {
            return null;
        }
        var inFrame = frameStarted?.Invoke() ?? cancellationToken;
        got += await ReadFullyAsync(stream, header.AsMemory(got), inFrame);
        if (got < HeaderSize)
        {
            throw new ProtocolException(ErrorCodes.BadFrame, $"connection closed inside a frame header ({got} of {HeaderSize} bytes)");
        }
        return (ParseHeader(header, maxPayload), inFrame);
    }

    internal static ProtocolException TruncatedPayload(int length, int read) =>
        new(ErrorCodes.BadFrame, $"connection closed inside a frame of {length} bytes ({read} received)");

    /// <summary>Validates a header and returns its payload length.</summary>
    public static int ParseHeader(ReadOnlySpan<byte> header, int maxPayload = MaxPayload)
    {
        if (!header[..4].SequenceEqual(Magic))
        {
            throw new ProtocolException(ErrorCodes.BadFrame, "not a clusterd control frame (bad magic); is this the clusterd control socket?");
        }
        var version = BinaryPrimitives.ReadUInt16BigEndian(header[4..]);
        if (version != ProtocolVersion.Current)
        {
            throw new ProtocolException(ErrorCodes.VersionMismatch,
                $"protocol version {version} is not supported (this side speaks {ProtocolVersion.Current}); use a clusterctl of the same release as clusterd");
        }
        var length = BinaryPrimitives.ReadUInt32BigEndian(header[6..]);
        if (length > maxPayload)
        {
            throw new ProtocolException(ErrorCodes.FrameTooLarge, $"frame of {length} bytes exceeds the limit of {maxPayload}");
        }
        return (int)length;
    }

    internal static async Task<int> ReadFullyAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer[total..], cancellationToken);
            if (n == 0)
            {
                break;
            }
            total += n;
        }
        return total;
    }
}
