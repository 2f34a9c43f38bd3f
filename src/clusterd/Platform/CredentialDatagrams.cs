using System.Net.Sockets;
using System.Runtime.Versioning;

namespace Clusterd.Platform;

/// <summary>
/// Receives sd_notify datagrams together with the kernel-checked pid of their sender (SCM_CREDENTIALS), so a
/// message is attributed by who sent it, not by what it claims.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class CredentialDatagrams
{
    private const int EAGAIN = 11;
    private const int EINTR = 4;

    public static void EnablePassCred(Socket socket) =>
        socket.SetRawSocketOption(LinuxConstants.SOL_SOCKET, LinuxConstants.SO_PASSCRED, BitConverter.GetBytes(1));

    /// <summary>
    /// A datagram socket at <paramref name="path"/> that receives its senders' credentials. The socket's inode gets
    /// <paramref name="mode"/> before bind(2) creates the file from it, so there is no moment in which the file has
    /// the umask's mode and another user could connect(2) and keep the connection. It is bound with <see cref="UnixSocketBind"/>, not
    /// through <see cref="Socket.Bind"/>, because .NET deletes a path it bound when the Socket is disposed, whatever is
    /// there by then: the caller removes the file itself, after checking it still is a socket.
    /// </summary>
    /// <exception cref="IOException">The path is too long for a Unix socket, or bind(2) failed.</exception>
    public static Socket Bind(string path, UnixFileMode mode)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            EnablePassCred(socket);
            var fd = (int)socket.SafeHandle.DangerousGetHandle();
            ErrnoException.ThrowIfFailed(Interop.fchmod(fd, (uint)mode), $"fchmod {path}");
            UnixSocketBind.Bind(socket, path);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return socket;
    }

    /// <summary>
    /// One non-blocking recvmsg. Returns false when no datagram is queued. <paramref name="truncated"/> says the
    /// datagram was longer than <paramref name="buffer"/> (its tail is lost). Descriptors sent along (SCM_RIGHTS,
    /// e.g. the BARRIER=1 of systemd-notify, or an FDSTORE=1 we do not support for workers) are closed, never leaked.
    /// </summary>
    /// <exception cref="ErrnoException">recvmsg failed with anything but EAGAIN or EINTR.</exception>
    public static unsafe bool TryReceive(Socket socket, Span<byte> buffer, out int length, out int senderPid, out bool truncated)
    {
        length = 0;
        senderPid = 0;
        truncated = false;
        // Room for one ucred and a handful of passed descriptors.
        var control = stackalloc byte[256];
        fixed (byte* data = buffer)
        {
            var iov = new Interop.IoVec { Base = (nint)data, Length = buffer.Length };
            var msg = new Interop.MsgHdr { Iov = (nint)(&iov), IovLength = 1, Control = (nint)control, ControlLength = 256 };
            var fd = (int)socket.SafeHandle.DangerousGetHandle();
            var n = Interop.recvmsg(fd, &msg, LinuxConstants.MSG_DONTWAIT | LinuxConstants.MSG_CMSG_CLOEXEC);
            if (n < 0)
            {
                var e = ErrnoException.FromLastError("recvmsg");
                if (e.Errno is EAGAIN or EINTR)
                {
                    return false;
                }
                throw e;
            }
            length = (int)n;
            truncated = (msg.Flags & LinuxConstants.MSG_TRUNC) != 0;
            senderPid = ParseControl(control, (int)msg.ControlLength);
            return true;
        }
    }

    private static unsafe int ParseControl(byte* control, int controlLength)
    {
        const int headerSize = 16; // cmsghdr: size_t len; int level; int type
        var pid = 0;
        var offset = 0;
        while (offset + headerSize <= controlLength)
        {
            var len = (int)*(nint*)(control + offset);
            var level = *(int*)(control + offset + 8);
            var type = *(int*)(control + offset + 12);
            if (len < headerSize || offset + len > controlLength)
            {
                break;
            }
            var payload = control + offset + headerSize;
            if (level == LinuxConstants.SOL_SOCKET && type == LinuxConstants.SCM_CREDENTIALS)
            {
                pid = *(int*)payload;
            }
            else if (level == LinuxConstants.SOL_SOCKET && type == LinuxConstants.SCM_RIGHTS)
            {
                for (var p = 0; p + 4 <= len - headerSize; p += 4)
                {
                    Interop.close(*(int*)(payload + p));
                }
            }
            offset += (len + 7) & ~7;
        }
        return pid;
    }
}
