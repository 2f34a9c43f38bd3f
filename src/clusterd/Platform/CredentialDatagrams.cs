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
    public static void EnablePassCred(Socket socket) =>
        socket.SetRawSocketOption(LinuxConstants.SOL_SOCKET, LinuxConstants.SO_PASSCRED, BitConverter.GetBytes(1));

    /// <summary>
    /// One non-blocking recvmsg. Returns false when no datagram is queued. Descriptors sent along
    /// (SCM_RIGHTS, e.g. an FDSTORE=1 we do not support for workers) are closed, never leaked.
    /// </summary>
    public static unsafe bool TryReceive(Socket socket, Span<byte> buffer, out int length, out int senderPid)
    {
        length = 0;
        senderPid = 0;
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
                if (e.Errno is 11 /* EAGAIN */ or 4 /* EINTR */)
                {
                    return false;
                }
                throw e;
            }
            length = (int)n;
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
