using System.Buffers.Binary;
using System.Text;

namespace Clusterd.Protocol.Tests;

public sealed class FramingTests
{
    internal static byte[] Header(uint length, ushort version = ProtocolVersion.Current)
    {
        var header = new byte[Framing.HeaderSize];
        Framing.Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(4), version);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(6), length);
        return header;
    }

    [Fact]
    public async Task ReadAsync_AHeaderAnnouncingAMebibyteAndLittleElse_AllocatesOnlyAsBytesArrive()
    {
        var stream = new TrickleStream([.. Header(Framing.MaxPayload), .. new byte[10]], chunk: 1000);

        var e = await Assert.ThrowsAsync<ProtocolException>(() => Framing.ReadAsync(stream, CancellationToken.None));

        Assert.Equal(ErrorCodes.BadFrame, e.Code);
        Assert.InRange(stream.Offered.Max(), 1, 4096);
    }

    [Fact]
    public async Task ReadAsync_APayloadLargerThanTheFirstBuffer_ComesBackWhole()
    {
        var payload = Encoding.UTF8.GetBytes(new string('x', 300_000));
        var stream = new TrickleStream(Framing.Encode(payload), chunk: 65_536);

        var read = await Framing.ReadAsync(stream, CancellationToken.None);

        Assert.Equal(payload, read);
        Assert.InRange(stream.Offered.Max(), 1, 2 * payload.Length);
    }

    [Fact]
    public async Task ReadAsync_OverTheCallersLimit_IsFrameTooLargeBeforeThePayloadIsRead()
    {
        var stream = new TrickleStream([.. Header(Framing.MaxRequestPayload + 1), .. new byte[100]], chunk: 4096);

        var e = await Assert.ThrowsAsync<ProtocolException>(() => Framing.ReadAsync(stream, Framing.MaxRequestPayload, null, CancellationToken.None));

        Assert.Equal(ErrorCodes.FrameTooLarge, e.Code);
        Assert.All(stream.Offered, n => Assert.True(n <= Framing.HeaderSize));
    }

    [Fact]
    public async Task ReadAsync_ProtocolVersion1_IsAVersionMismatchNamingBoth()
    {
        var stream = new TrickleStream([.. Header(2, version: 1), .. "{}"u8.ToArray()], chunk: 4096);

        var e = await Assert.ThrowsAsync<ProtocolException>(() => Framing.ReadAsync(stream, CancellationToken.None));

        Assert.Equal(ErrorCodes.VersionMismatch, e.Code);
        Assert.Contains($"protocol version 1 is not supported (this side speaks {ProtocolVersion.Current})", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_FrameStarted_IsAskedOnceTheFirstByteIsInAndItsTokenRulesTheRest()
    {
        var stream = new TrickleStream(Framing.Encode("{}"u8), chunk: 1);
        using var started = new CancellationTokenSource();
        var calls = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Framing.ReadAsync(stream, Framing.MaxPayload, () =>
        {
            calls++;
            started.Cancel();
            return started.Token;
        }, CancellationToken.None));

        Assert.Equal(1, calls);
        Assert.Single(stream.Offered); // the first byte only: the rest was read with the cancelled token
    }

    [Fact]
    public async Task ReadAsync_EndOfStreamBeforeAFrame_IsNull()
    {
        Assert.Null(await Framing.ReadAsync(new TrickleStream([], chunk: 1), CancellationToken.None));
    }
}
