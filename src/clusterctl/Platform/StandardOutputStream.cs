using System.Runtime.InteropServices;

namespace Clusterctl.Platform;

/// <summary>
/// stdout written with write(2), as Console's own stream writes it, without what Console sets up first: its first
/// write installs the runtime's terminal and signal handling (a thread, a pipe, a dozen handlers, terminfo at a
/// terminal), which a clusterctl that only prints never needs. The colours are clusterctl's own escape sequences.
/// </summary>
internal sealed class StandardOutputStream : Stream
{
    public override bool CanRead => false;
    public override bool CanWrite => true;
    public override bool CanSeek => false;

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <summary>Writes all of <paramref name="buffer"/>, as Console's stream does: a non-blocking stdout (shared with a
    /// process that set O_NONBLOCK) is waited for, and a reader that went away (<c>| head</c>) is not an error.</summary>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var written = Interop.write(Interop.StdoutFileno, buffer, (nuint)buffer.Length);
            if (written >= 0)
            {
                buffer = buffer[(int)written..];
                continue;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Interop.Epipe)
            {
                return;
            }
            if (errno == Interop.Eagain)
            {
                var stdout = new Interop.PollFd { Fd = Interop.StdoutFileno, Events = Interop.Pollout };
                Interop.poll(ref stdout, 1, -1);
            }
            else if (errno != Interop.Eintr)
            {
                throw new IOException($"write to stdout: {Marshal.GetPInvokeErrorMessage(errno)}");
            }
        }
    }

    /// <summary>At once, on the caller's thread: Stream's default would queue each write to the thread pool.</summary>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
