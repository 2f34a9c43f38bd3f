using System.Runtime.InteropServices;
using System.Text;

namespace Clusterd.Protocol.Platform;

/// <summary>
/// A connection to a local control socket, read and written with blocking calls, without System.Net.Sockets. The first
/// .NET <c>Socket</c> of a process starts the runtime's socket engine (an epoll thread) and probes for IPv4, IPv6 and
/// Unix sockets: a cost every clusterctl process paid again for one round trip (BENCHMARKS.md, Control). The async
/// methods block too; cancelling one shuts the socket down, which wakes the blocked call, so Ctrl-C still ends a
/// <c>--follow</c> or a long restart.
/// </summary>
public sealed class LocalSocketStream : Stream
{
    private readonly LocalSocketHandle _socket;

    private LocalSocketStream(LocalSocketHandle socket) => _socket = socket;

    /// <summary>
    /// Connects to the socket at <paramref name="path"/>. A blocking connect to a Unix socket waits only while the
    /// listener's backlog is full, and then for at most the send timeout (unix(7)): <paramref name="timeout"/> is that.
    /// </summary>
    /// <exception cref="LocalSocketException">The path is too long, or socket(2) or connect(2) failed.</exception>
    public static unsafe LocalSocketStream Connect(string path, TimeSpan timeout)
    {
        var address = Address(path);
        var socket = Interop.socket(Interop.AfUnix, Interop.SockStream | Interop.SockCloexec, 0);
        if (socket.IsInvalid)
        {
            var errno = Marshal.GetLastPInvokeError();
            socket.Dispose();
            throw LocalSocketException.From("socket", errno);
        }
        try
        {
            if (OperatingSystem.IsMacOS())
            {
                var on = 1;
                Check(Interop.fcntl(socket, Interop.FSetFd, Interop.FdCloexec), "fcntl");
                Check(Interop.setsockopt(socket, Interop.SolSocket, Interop.SoNoSigpipeMacOS, &on, sizeof(int)), "setsockopt");
            }
            SetTimeout(socket, Interop.SoSndTimeo, timeout);
            fixed (byte* bytes = address)
            {
                // A signal handled meanwhile (Ctrl-C with nothing to cancel yet) ends the wait with EINTR: wait again.
                while (Interop.connect(socket, bytes, (uint)address.Length) != 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno != Interop.Eintr)
                    {
                        throw LocalSocketException.From("connect", errno);
                    }
                }
            }
            SetTimeout(socket, Interop.SoSndTimeo, TimeSpan.Zero);
            return new LocalSocketStream(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The uid of the process at the other end, in the kernel's word; null where the OS cannot say.</summary>
    public unsafe uint? PeerUid()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return null;
        }
        var (level, name, size) = Interop.PeerCredentials;
        var credentials = stackalloc byte[size];
        var length = (uint)size;
        Check(Interop.getsockopt(_socket, level, name, credentials, &length), "getsockopt");
        return Interop.PeerUid(new ReadOnlySpan<byte>(credentials, size));
    }

    /// <summary>Tells the peer no more is coming (a half-close); what it still sends can be read.</summary>
    public void ShutdownSend() => Check(Interop.shutdown(_socket, Interop.ShutWr), "shutdown");

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override bool CanTimeout => true;

    /// <summary>How long a read may wait (SO_RCVTIMEO); 0 or <see cref="Timeout.Infinite"/>: for ever.</summary>
    public override int ReadTimeout
    {
        get => throw new NotSupportedException();
        set => SetTimeout(_socket, Interop.SoRcvTimeo, TimeSpan.FromMilliseconds(Math.Max(0, value)));
    }

    /// <summary>How long a write may wait (SO_SNDTIMEO); 0 or <see cref="Timeout.Infinite"/>: for ever.</summary>
    public override int WriteTimeout
    {
        get => throw new NotSupportedException();
        set => SetTimeout(_socket, Interop.SoSndTimeo, TimeSpan.FromMilliseconds(Math.Max(0, value)));
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <exception cref="LocalSocketException">recv(2) failed, or timed out (<see cref="ReadTimeout"/>).</exception>
    public override unsafe int Read(Span<byte> buffer)
    {
        fixed (byte* bytes = buffer)
        {
            while (true)
            {
                var read = Interop.recv(_socket, bytes, (nuint)buffer.Length, 0);
                if (read >= 0)
                {
                    return (int)read;
                }
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Interop.Eintr)
                {
                    throw LocalSocketException.From("recv", errno);
                }
            }
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <exception cref="LocalSocketException">send(2) failed, or timed out (<see cref="WriteTimeout"/>).</exception>
    public override unsafe void Write(ReadOnlySpan<byte> buffer)
    {
        fixed (byte* bytes = buffer)
        {
            var sent = 0;
            while (sent < buffer.Length)
            {
                var written = Interop.send(_socket, bytes + sent, (nuint)(buffer.Length - sent), Interop.MsgNoSignal);
                if (written >= 0)
                {
                    sent += (int)written;
                    continue;
                }
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Interop.Eintr)
                {
                    throw LocalSocketException.From("send", errno);
                }
            }
        }
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Blocking(buffer, static (stream, buffer) => stream.Read(buffer.Span), cancellationToken));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Blocking(buffer, static (stream, buffer) =>
        {
            stream.Write(buffer.Span);
            return 0;
        }, cancellationToken);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _socket.Dispose();
        }
        base.Dispose(disposing);
    }

    private TResult Blocking<TBuffer, TResult>(TBuffer buffer, Func<LocalSocketStream, TBuffer, TResult> call, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var wake = cancellationToken.UnsafeRegister(static stream => ((LocalSocketStream)stream!).Wake(), this);
        try
        {
            var result = call(this, buffer);
            cancellationToken.ThrowIfCancellationRequested();
            return result;
        }
        catch (IOException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
    }

    /// <summary>Ends a blocked read or write: both return at once (the read with 0 bytes).</summary>
    private void Wake()
    {
        try
        {
            Interop.shutdown(_socket, Interop.ShutRdWr); // not connected any more: nothing is blocked on it
        }
        catch (ObjectDisposedException)
        {
            // Closed while the cancellation ran: nothing is blocked on it.
        }
    }

    /// <summary>sockaddr_un for <paramref name="path"/>: Linux's starts with a 16-bit family, macOS's with a length byte and an 8-bit one.</summary>
    private static byte[] Address(string path)
    {
        var pathBytes = Encoding.UTF8.GetByteCount(path);
        if (pathBytes == 0 || pathBytes >= Interop.SunPathSize)
        {
            throw new LocalSocketException(LocalSocketFailure.Other,
                $"the path is {pathBytes} bytes long, and a socket's path must be 1 to {Interop.SunPathSize - 1}; use a shorter one");
        }
        var address = new byte[2 + pathBytes + 1];
        if (OperatingSystem.IsMacOS())
        {
            address[0] = (byte)address.Length;
            address[1] = Interop.AfUnix;
        }
        else
        {
            address[0] = Interop.AfUnix; // little-endian on every Linux .NET runs on
        }
        Encoding.UTF8.GetBytes(path, address.AsSpan(2));
        return address;
    }

    private static unsafe void SetTimeout(LocalSocketHandle socket, int option, TimeSpan timeout)
    {
        // struct timeval is two 64-bit fields on 64-bit Linux and macOS (macOS pads its 32-bit tv_usec).
        var micros = (long)Math.Ceiling(timeout.TotalMicroseconds);
        var timeval = stackalloc long[2] { micros / 1_000_000, micros % 1_000_000 };
        Check(Interop.setsockopt(socket, Interop.SolSocket, option, timeval, 2 * sizeof(long)), "setsockopt");
    }

    private static void Check(int result, string call)
    {
        if (result != 0)
        {
            throw LocalSocketException.From(call, Marshal.GetLastPInvokeError());
        }
    }
}

/// <summary>A connected AF_UNIX socket's descriptor, closed with its owner.</summary>
internal sealed class LocalSocketHandle : SafeHandle
{
    public LocalSocketHandle()
        : base(-1, ownsHandle: true) // the socket(2) it comes from made it for this process alone
    {
    }

    public override bool IsInvalid => handle < 0;

    protected override bool ReleaseHandle() => Interop.close(handle) == 0;
}

/// <summary>What went wrong, in the terms a message to the user needs.</summary>
public enum LocalSocketFailure
{
    Other,
    NoSuchSocket,
    Refused,
    AccessDenied,
    TimedOut,
}

/// <summary>A local socket call that failed; the message is the OS's (strerror) unless the failure is one clusterd names itself.</summary>
public sealed class LocalSocketException(LocalSocketFailure failure, string message) : IOException(message)
{
    public LocalSocketFailure Failure { get; } = failure;

    internal static LocalSocketException From(string call, int errno)
    {
        var failure = errno == Interop.Enoent || errno == Interop.Enotdir ? LocalSocketFailure.NoSuchSocket
            : errno == Interop.Econnrefused ? LocalSocketFailure.Refused
            : errno == Interop.Eacces ? LocalSocketFailure.AccessDenied
            : errno == Interop.Eagain || errno == Interop.Etimedout ? LocalSocketFailure.TimedOut
            : LocalSocketFailure.Other;
        return new LocalSocketException(failure, $"{call}: {Marshal.GetPInvokeErrorMessage(errno)}");
    }
}
