using System.Buffers.Binary;
using System.Net.Sockets;

namespace Clusterd.Platform;

/// <summary>Who is at the other end of a Unix stream socket, as the kernel says (not as the peer claims).</summary>
internal sealed record PeerCredentials(int Pid, uint Uid, uint Gid, IReadOnlyList<uint> Groups)
{
    private const int SoPeerCred = 17;    // Linux
    private const int SoPeerGroups = 59;  // Linux 4.13+

    public static PeerCredentials Of(Socket socket)
    {
        if (OperatingSystem.IsLinux())
        {
            // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
            Span<byte> ucred = stackalloc byte[12];
            socket.GetRawSocketOption(LinuxConstants.SOL_SOCKET, SoPeerCred, ucred);
            var pid = BinaryPrimitives.ReadInt32LittleEndian(ucred);
            var uid = BinaryPrimitives.ReadUInt32LittleEndian(ucred[4..]);
            var gid = BinaryPrimitives.ReadUInt32LittleEndian(ucred[8..]);
            return new PeerCredentials(pid, uid, gid, SupplementaryGroups(socket));
        }
        if (Interop.getpeereid((int)socket.SafeHandle.DangerousGetHandle(), out var euid, out var egid) == -1)
        {
            throw ErrnoException.FromLastError("getpeereid");
        }
        return new PeerCredentials(0, euid, egid, []);
    }

    private static uint[] SupplementaryGroups(Socket socket)
    {
        var buffer = new byte[4 * 1024];
        try
        {
            var length = socket.GetRawSocketOption(LinuxConstants.SOL_SOCKET, SoPeerGroups, buffer);
            var groups = new uint[length / 4];
            for (var i = 0; i < groups.Length; i++)
            {
                groups[i] = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(i * 4));
            }
            return groups;
        }
        catch (SocketException)
        {
            return []; // kernels before 4.13: only the primary group counts
        }
    }

    public bool IsInGroup(uint gid) => Gid == gid || Groups.Contains(gid);
}
