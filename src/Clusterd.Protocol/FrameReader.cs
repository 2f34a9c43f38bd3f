namespace Clusterd.Protocol;

/// <summary>
/// A client's reader of its daemon's frames: each payload is read into one buffer of the length its header announces
/// (at most <see cref="Framing.MaxPayload"/>), kept for the next frame, so the pages of a long answer cost one buffer
/// rather than a growing series each (BENCHMARKS.md, Control). A server reads a stranger's request with
/// <see cref="Framing.ReadAsync(Stream, CancellationToken)"/>, which allocates only as bytes arrive.
/// </summary>
public sealed class FrameReader(Stream stream)
{
    private readonly byte[] _header = new byte[Framing.HeaderSize];
    private byte[] _payload = [];

    /// <summary>
    /// The next frame's payload, valid until the next call; null on a clean end of stream before the first header byte.
    /// Throws <see cref="ProtocolException"/> as <see cref="Framing.ReadAsync(Stream, CancellationToken)"/> does.
    /// </summary>
    public async Task<ReadOnlyMemory<byte>?> ReadAsync(CancellationToken cancellationToken)
    {
        if (await Framing.ReadHeaderAsync(stream, _header, Framing.MaxPayload, frameStarted: null, cancellationToken) is not { } header)
        {
            return null;
        }
        var length = header.Length;
        if (_payload.Length < length)
        {
            _payload = new byte[length];
        }
        var read = await Framing.ReadFullyAsync(stream, _payload.AsMemory(0, length), header.InFrame);
        return read == length ? _payload.AsMemory(0, length) : throw Framing.TruncatedPayload(length, read);
    }
}
