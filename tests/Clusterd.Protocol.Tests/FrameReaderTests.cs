using System.Runtime.InteropServices;
using System.Text;

namespace Clusterd.Protocol.Tests;

public sealed class FrameReaderTests
{
    [Fact]
    public async Task ReadAsync_ALargeFrameThenASmallOne_ReadsBothIntoOneBufferOfTheLargerLength()
    {
        var large = Encoding.UTF8.GetBytes(new string('x', 300_000));
        var stream = new TrickleStream([.. Framing.Encode(large), .. Framing.Encode("{}"u8)], chunk: 65_536);
        var reader = new FrameReader(stream);

        var first = (await reader.ReadAsync(CancellationToken.None))!.Value;
        Assert.Equal(large, first.ToArray());
        var second = (await reader.ReadAsync(CancellationToken.None))!.Value;

        Assert.Equal("{}"u8.ToArray(), second.ToArray());
        Assert.True(MemoryMarshal.TryGetArray(first, out var firstArray));
        Assert.True(MemoryMarshal.TryGetArray(second, out var secondArray));
        Assert.Same(firstArray.Array, secondArray.Array);
        Assert.Equal(large.Length, firstArray.Array!.Length);
        Assert.Null(await reader.ReadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task ReadAsync_ConnectionClosedInsideThePayload_IsABadFrameSayingHowMuchCame()
    {
        var stream = new TrickleStream([.. FramingTests.Header(100), .. new byte[10]], chunk: 4096);

        var e = await Assert.ThrowsAsync<ProtocolException>(() => new FrameReader(stream).ReadAsync(CancellationToken.None));

        Assert.Equal(ErrorCodes.BadFrame, e.Code);
        Assert.Equal("connection closed inside a frame of 100 bytes (10 received)", e.Message);
    }

    [Fact]
    public async Task ReadAsync_OverTheLimit_IsFrameTooLargeBeforeAnythingIsAllocated()
    {
        var stream = new TrickleStream([.. FramingTests.Header(Framing.MaxPayload + 1), .. new byte[100]], chunk: 4096);

        var e = await Assert.ThrowsAsync<ProtocolException>(() => new FrameReader(stream).ReadAsync(CancellationToken.None));

        Assert.Equal(ErrorCodes.FrameTooLarge, e.Code);
        Assert.All(stream.Offered, n => Assert.True(n <= Framing.HeaderSize));
    }

    [Fact]
    public async Task ReadAsync_ConnectionClosedInsideTheHeader_IsABadFrame()
    {
        var stream = new TrickleStream([.. FramingTests.Header(2)[..4]], chunk: 4096);

        var e = await Assert.ThrowsAsync<ProtocolException>(() => new FrameReader(stream).ReadAsync(CancellationToken.None));

        Assert.Equal(ErrorCodes.BadFrame, e.Code);
    }
}
