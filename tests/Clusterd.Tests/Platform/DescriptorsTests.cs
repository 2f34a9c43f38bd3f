using System.IO.Pipes;
using Clusterd.Platform;

namespace Clusterd.Tests.Platform;

public sealed class DescriptorsTests
{
    [Fact]
    public void ReadAvailable_NonBlockingPipe_TakesWhatIsThereAndNeverWaits()
    {
        var (read, write) = Descriptors.CreatePipe();
        using var reader = new AnonymousPipeClientStream(PipeDirection.In, read);
        using var writer = new AnonymousPipeClientStream(PipeDirection.Out, write);
        Descriptors.SetNonBlocking(read);
        var buffer = new byte[8];

        var empty = Descriptors.ReadAvailable(read, buffer);
        writer.Write("abc"u8);
        var some = Descriptors.ReadAvailable(read, buffer);
        writer.Write("0123456789"u8);
        var full = Descriptors.ReadAvailable(read, buffer);
        var rest = Descriptors.ReadAvailable(read, buffer);
        writer.Dispose();
        var atEof = Descriptors.ReadAvailable(read, buffer);

        Assert.Equal((0, 3, 8, 2, 0), (empty, some, full, rest, atEof));
        Assert.Equal("89"u8.ToArray(), buffer[..2]);
    }
}
