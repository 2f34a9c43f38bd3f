using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Clusterd.Platform;

/// <summary>
/// The accept queue of a listening TCP socket: how many connections the kernel has completed that nobody has
/// accepted yet, and the backlog that caps it. This is what <c>ss -lnt</c> shows as Recv-Q / Send-Q, and the first
/// sign that workers are not keeping up (or are all down and the queue is holding connections for them).
/// </summary>
internal static class ListenQueue
{
    private const int IpProtoTcp = 6;
    private const int TcpInfo = 11;

    // struct tcp_info (linux/tcp.h) starts with 8 bytes of u8 fields and bitfields (state, ca_state, retransmits,
    // probes, backoff, options, wscales, app_limited/fastopen), then u32 rto, ato, snd_mss, rcv_mss, unacked, sacked.
    // For a socket in LISTEN, tcp_get_info() stores the accept-queue length in unacked and the backlog in sacked.
    private const int UnackedOffset = 24;
    private const int SackedOffset = 28;
    private const int MinimumLength = SackedOffset + sizeof(uint);

    /// <summary>
    /// False on anything that is not a listening TCP socket on Linux (Unix sockets, macOS, a closed socket):
    /// the caller reports nothing rather than a made-up zero.
    /// </summary>
    public static bool TryRead(Socket socket, out uint length, out uint limit)
    {
        length = 0;
        limit = 0;
        if (!OperatingSystem.IsLinux() || socket.ProtocolType != ProtocolType.Tcp)
        {
            return false;
        }
        Span<byte> info = stackalloc byte[256]; // sizeof(struct tcp_info) is 232 in Linux 6.x; the kernel copies min(len, its size)
        int written;
        try
        {
            written = socket.GetRawSocketOption(IpProtoTcp, TcpInfo, info);
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException)
        {
            return false; // closed by the supervisor loop (scale-down, shutdown) after the caller took its list
        }
        if (written < MinimumLength)
        {
            return false;
        }
        // Host byte order, like every field of tcp_info.
        length = MemoryMarshal.Read<uint>(info[UnackedOffset..]);
        limit = MemoryMarshal.Read<uint>(info[SackedOffset..]);
        return true;
    }
}
