using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace Clusterd.Platform;

/// <summary>
/// <c>clusterd-exec --fork-server</c> (native/clusterd-exec.c; docs/adr/0005, "The fork server"): one long-lived process
/// that starts the helper for each spawn by a fork of itself, with no exec of its own, so a worker costs one exec
/// (its own) instead of two. The child is clusterd's (CLONE_PARENT), placed as <see cref="PosixSpawn"/> places the
/// helper, and reads its request on fd 3 as the helper does. Started on first use and again after it died; use it from
/// the spawner thread only, which it is tied to by the parent-death signal, as the workers are.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class ForkServer(string helper) : IDisposable
{
    /// <summary>The most descriptors one message carries (SCM_MAX_FD): stdout, stderr and the inherited ones.</summary>
    public const int MaxDescriptors = 253;

    private const int Version = 2;
    private const int EPIPE = 32;
    private const int ECONNRESET = 104;

    private Socket? _control;
    private SafeFileHandle? _pidfd;

    /// <summary>The server's pid while one runs; 0 before the first spawn and after it was stopped.</summary>
    public int Pid { get; private set; }

    /// <summary>Whether a spawn passing <paramref name="inherited"/> descriptors (besides stdout and stderr) fits one message.</summary>
    public static bool Fits(int inherited) => 2 + inherited <= MaxDescriptors;

    /// <summary>
    /// Starts the helper as a child of this process: stdin on /dev/null, <paramref name="stdout"/> and
    /// <paramref name="stderr"/> on 1 and 2, <paramref name="inherited"/> at 3, 4, ... With <paramref name="lastIsCgroup"/>
    /// the last of them is the worker's cgroup directory, and the child is born in that cgroup where the kernel can
    /// (clone3, Linux 5.7), instead of joining it as its first step. Returns its pid; throws
    /// <see cref="ErrnoException"/> when the server could not fork (EAGAIN, ENOMEM: as a failed posix_spawn), and
    /// <see cref="IOException"/> when the server died with the spawn in hand (a child may have started: it gets no
    /// request once the caller drops its status socket, and exits). A server found dead before it took the spawn is
    /// replaced, and the spawn goes to the new one.
    /// </summary>
    public int Spawn(SafeHandle stdout, SafeHandle stderr, IReadOnlyList<SafeHandle> inherited, bool lastIsCgroup = false)
    {
        if (!Fits(inherited.Count))
        {
            throw new ArgumentException($"at most {MaxDescriptors - 2} descriptors fit one spawn", nameof(inherited));
        }
        using var borrowed = new BorrowedDescriptors([stdout, stderr, .. inherited]); // ours until the server has its copies
        Span<byte> header = stackalloc byte[12];
        "CLXF"u8.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], lastIsCgroup ? 2 + inherited.Count - 1 : -1); // among all passed
        Send(header, borrowed.Fds);
        var reply = ReadReply();
        return reply > 0 ? reply : throw new ErrnoException("fork in the fork server", -reply);
    }

    private void Send(ReadOnlySpan<byte> header, ReadOnlySpan<int> fds)
    {
        for (var attempt = 0; ; attempt++)
        {
            var control = _control ??= Start();
            if (Descriptors.SendWithDescriptors(control.SafeHandle, header, fds) == header.Length)
            {
                return;
            }
            var errno = Marshal.GetLastPInvokeError();
            Stop();
            if (attempt > 0 || errno is not (EPIPE or ECONNRESET))
            {
                throw new ErrnoException("sendmsg to the fork server", errno);
            }
            // It died between spawns (killed, or its tie to this thread fired): nothing was delivered; try a new one.
        }
    }

    /// <summary>The server's answer: a pid, or -errno.</summary>
    private int ReadReply()
    {
        Span<byte> reply = stackalloc byte[4];
        int n;
        try
        {
            n = _control!.Receive(reply);
        }
        catch (SocketException)
        {
            n = 0;
        }
        if (n != reply.Length)
        {
            var pid = Pid;
            Stop();
            throw new IOException(string.Create(CultureInfo.InvariantCulture, $"the fork server (pid {pid}) exited during a spawn"));
        }
        return BinaryPrimitives.ReadInt32LittleEndian(reply);
    }

    /// <summary>As the helper is started (empty environment, signals at their defaults), its stdout and stderr ours.</summary>
    private Socket Start()
    {
        var (control, serverEnd) = Descriptors.CreateSocketPair(SocketType.Seqpacket);
        try
        {
            using (serverEnd)
            using (var stderr = new SafeFileHandle(2, ownsHandle: false))
            {
                Pid = PosixSpawn.Start(helper, fds => [ExecHelper.FileName, "--fork-server", fds[0].ToString(CultureInfo.InvariantCulture)],
                    [], stderr, stderr, [serverEnd], out _);
            }
            _pidfd = Pidfd.Open(Pid); // not reaped by anyone yet: the pid still names it
        }
        catch
        {
            control.Dispose();
            Pid = 0;
            throw;
        }
        return control;
    }

    /// <summary>Ends the server and reaps it (unless clusterd's orphan reaper did). Its children are not its: they live on.</summary>
    private void Stop()
    {
        _control?.Dispose();
        _control = null;
        if (_pidfd is { } pidfd)
        {
            Pidfd.Signal(pidfd, Signals.SIGKILL);
            Pidfd.Reap(pidfd);
            pidfd.Dispose();
            _pidfd = null;
        }
        Pid = 0;
    }

    public void Dispose() => Stop();
}
