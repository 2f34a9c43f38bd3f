using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace Clusterd.Platform;

/// <summary>Which sockets of one SO_REUSEPORT group get new connections: <see cref="ReuseportSteering"/>, or a test's fake.</summary>
internal interface IReuseportSteering : IDisposable
{
    /// <summary>From now on only <paramref name="routed"/> get new connections (at least one; all in the same group).</summary>
    void Route(IReadOnlyList<Socket> routed);

    /// <summary>Back to the kernel's own choice among every socket of the group that <paramref name="anyInGroup"/> is in.</summary>
    void Detach(Socket anyInGroup);
}

/// <summary>
/// Chooses which sockets of one SO_REUSEPORT group get new connections (docs/adr/0004). A BPF program of type
/// SK_REUSEPORT picks <c>hash % n</c> among the n sockets of a REUSEPORT_SOCKARRAY map; a socket left out gets no
/// new connection, and when it closes, the kernel hands the connections still queued on it to the program, which
/// moves them to a routed socket instead of resetting them (BPF_SK_REUSEPORT_SELECT_OR_MIGRATE). Needs Linux 5.14
/// and CAP_BPF (root); <see cref="Unavailable"/> says why not where it is missing, and clusterd then does without.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class ReuseportSteering : IReuseportSteering
{
    private const int BpfMapCreate = 0;
    private const int BpfMapDeleteElem = 3;
    private const int BpfMapUpdateElem = 2;
    private const int BpfProgLoad = 5;
    private const int MapTypeReuseportSockarray = 20;
    private const int ProgTypeSkReuseport = 21;
    private const int AttachSkReuseportSelectOrMigrate = 40;
    private const int SoAttachReuseportEbpf = 52;
    private const int SoDetachReuseportBpf = 68;
    private const int HelperSkSelectReuseport = 82;
    private const int SkReuseportMdHashOffset = 32; // struct sk_reuseport_md: data, data_end, len, eth_protocol, ip_protocol, bind_inany, hash

    private static readonly Lazy<string?> s_unavailable = new(Probe);

    private SafeFileHandle? _map;
    private SafeFileHandle? _program;
    private int _mapped;

    /// <summary>Null when steering works here; otherwise why not (e.g. "bpf(BPF_MAP_CREATE) failed: Operation not permitted").</summary>
    public static string? Unavailable => s_unavailable.Value;

    public void Route(IReadOnlyList<Socket> routed)
    {
        // A socket can be in one such map at a time: empty the old map first. Until the new program replaces the
        // old one (microseconds), the old one finds nothing and the kernel picks by hash among all the sockets.
        EmptyMap();
        var map = CreateMap(routed.Count);
        SafeFileHandle? program = null;
        try
        {
            for (var key = 0; key < routed.Count; key++)
            {
                MapUpdate(map, key, routed[key]);
            }
            program = LoadProgram(map, routed.Count);
            var fd = (int)program.DangerousGetHandle();
            routed[0].SetRawSocketOption(LinuxConstants.SOL_SOCKET, SoAttachReuseportEbpf, BitConverter.GetBytes(fd));
        }
        catch
        {
            // Closed now, not by a finalizer some time later: a map holds its sockets, a program its map.
            program?.Dispose();
            map.Dispose();
            throw;
        }
        _program?.Dispose(); // the group holds the old program until the attach above replaced it
        _map?.Dispose();
        (_map, _program, _mapped) = (map, program, routed.Count);
    }

    public void Detach(Socket anyInGroup)
    {
        DetachAny(anyInGroup);
        Dispose();
    }

    /// <summary>Detaches whatever program the group of <paramref name="socket"/> has, if any.</summary>
    public static void DetachAny(Socket socket)
    {
        try
        {
            socket.SetRawSocketOption(LinuxConstants.SOL_SOCKET, SoDetachReuseportBpf, BitConverter.GetBytes(0));
        }
        catch (SocketException)
        {
            // ENOENT: none attached, the usual case.
        }
    }

    public void Dispose()
    {
        _program?.Dispose();
        // The kernel frees a closed map later, and its sockets stay in it until then: empty it now, or the group's next
        // replacement (a health recycle moments after the last) finds them still mapped (EBUSY) and steering breaks.
        EmptyMap();
        _map?.Dispose();
        (_map, _program, _mapped) = (null, null, 0);
    }

    private void EmptyMap()
    {
        for (var key = 0; _map is not null && key < _mapped; key++)
        {
            MapDelete(_map, key);
        }
    }

    private static string? Probe()
    {
        try
        {
            using var map = CreateMap(1);
            using var program = LoadProgram(map, 1);
            return null;
        }
        catch (ErrnoException e)
        {
            return e.Message;
        }
    }

    private static unsafe SafeFileHandle CreateMap(int entries)
    {
        var attr = stackalloc uint[32]; // union bpf_attr, BPF_MAP_CREATE: map_type, key_size, value_size, max_entries, ...
        new Span<uint>(attr, 32).Clear();
        attr[0] = MapTypeReuseportSockarray;
        attr[1] = sizeof(uint);
        attr[2] = sizeof(ulong);
        attr[3] = (uint)entries;
        return Bpf(BpfMapCreate, attr, 32 * sizeof(uint), "bpf(BPF_MAP_CREATE)");
    }

    private static unsafe void MapUpdate(SafeFileHandle map, int key, Socket socket)
    {
        var k = (uint)key;
        var value = (ulong)socket.SafeHandle.DangerousGetHandle();
        var attr = stackalloc ulong[8]; // map_fd (u32, padded), key pointer, value pointer, flags
        new Span<ulong>(attr, 8).Clear();
        attr[0] = (ulong)map.DangerousGetHandle();
        attr[1] = (ulong)&k;
        attr[2] = (ulong)&value;
        Call(BpfMapUpdateElem, attr, 8 * sizeof(ulong), "bpf(BPF_MAP_UPDATE_ELEM)");
    }

    private static unsafe void MapDelete(SafeFileHandle map, int key)
    {
        var k = (uint)key;
        var attr = stackalloc ulong[8];
        new Span<ulong>(attr, 8).Clear();
        attr[0] = (ulong)map.DangerousGetHandle();
        attr[1] = (ulong)&k;
        // ENOENT: the socket at this key closed and left the map by itself.
        _ = Interop.syscall(SysBpf, BpfMapDeleteElem, attr, 8 * sizeof(ulong));
    }

    /// <summary>
    /// <c>key = ctx->hash % n; bpf_sk_select_reuseport(ctx, map, &amp;key, 0); return SK_PASS;</c> If the select fails
    /// (a routed socket has just closed), SK_PASS with nothing selected lets the kernel pick by hash.
    /// </summary>
    private static unsafe SafeFileHandle LoadProgram(SafeFileHandle map, int n)
    {
        var mapFd = (int)map.DangerousGetHandle();
        ulong[] insns =
        [
            Insn(0xbf, 6, 1, 0, 0),                          // r6 = r1 (ctx)
            Insn(0x61, 2, 1, SkReuseportMdHashOffset, 0),    // r2 = *(u32 *)(r1 + hash)
            Insn(0x94, 2, 0, 0, n),                          // w2 %= n
            Insn(0x63, 10, 2, -4, 0),                        // *(u32 *)(r10 - 4) = r2
            Insn(0x18, 2, 1, 0, mapFd), Insn(0, 0, 0, 0, 0), // r2 = map (ld_imm64, BPF_PSEUDO_MAP_FD)
            Insn(0xbf, 1, 6, 0, 0),                          // r1 = r6
            Insn(0xbf, 3, 10, 0, 0),                         // r3 = r10
            Insn(0x07, 3, 0, 0, -4),                         // r3 += -4
            Insn(0xb7, 4, 0, 0, 0),                          // r4 = 0
            Insn(0x85, 0, 0, 0, HelperSkSelectReuseport),    // call bpf_sk_select_reuseport
            Insn(0xb7, 0, 0, 0, 1),                          // r0 = SK_PASS
            Insn(0x95, 0, 0, 0, 0),                          // exit
        ];
        var license = "Dual MIT/GPL\0"u8;
        var log = new byte[4096];
        fixed (ulong* code = insns)
        fixed (byte* licensePtr = license)
        fixed (byte* logPtr = log)
        {
            var attr = stackalloc byte[128]; // BPF_PROG_LOAD: prog_type, insn_cnt, insns, license, log_level, log_size, log_buf, ...
            new Span<byte>(attr, 128).Clear();
            *(uint*)(attr + 0) = ProgTypeSkReuseport;
            *(uint*)(attr + 4) = (uint)insns.Length;
            *(ulong*)(attr + 8) = (ulong)code;
            *(ulong*)(attr + 16) = (ulong)licensePtr;
            *(uint*)(attr + 24) = 1;
            *(uint*)(attr + 28) = (uint)log.Length;
            *(ulong*)(attr + 32) = (ulong)logPtr;
            *(uint*)(attr + 68) = AttachSkReuseportSelectOrMigrate; // expected_attach_type
            try
            {
                return Bpf(BpfProgLoad, attr, 128, "bpf(BPF_PROG_LOAD)");
            }
            catch (ErrnoException e) when (log[0] != 0)
            {
                throw new ErrnoException($"{e.Call} ({System.Text.Encoding.UTF8.GetString(log).TrimEnd('\0').Trim()})", e.Errno);
            }
        }
    }

    /// <summary>struct bpf_insn: opcode, dst and src registers in one byte, 16-bit offset, 32-bit immediate.</summary>
    private static ulong Insn(byte code, int dst, int src, short off, int imm) =>
        code | (ulong)(byte)(dst | (src << 4)) << 8 | (ulong)(ushort)off << 16 | (ulong)(uint)imm << 32;

    private static long SysBpf => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 280 : 321;

    /// <summary>A bpf command that returns a new descriptor (a map, a program).</summary>
    private static unsafe SafeFileHandle Bpf(int command, void* attr, int size, string call) =>
        new(Call(command, attr, size, call), ownsHandle: true);

    private static unsafe nint Call(int command, void* attr, int size, string call)
    {
        var result = Interop.syscall(SysBpf, command, attr, size);
        if (result < 0)
        {
            throw ErrnoException.FromLastError(call);
        }
        return result;
    }
}
