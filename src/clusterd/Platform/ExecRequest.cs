using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;

namespace Clusterd.Platform;

/// <summary>
/// What clusterd-exec is to do for one worker (docs/adr/0005, "The request"). <see cref="Listeners"/> and
/// <see cref="CgroupFd"/> are descriptor numbers in the helper, as the spawn placed them; the n-th listener becomes
/// the worker's fd 3+n. <see cref="Groups"/> are the supplementary groups (what <c>initgroups</c> would set, resolved by
/// clusterd so that the helper needs no NSS) and need <see cref="Gid"/>; <see cref="User"/> only names the user in messages.
/// </summary>
internal sealed record ExecRequest(
    IReadOnlyList<string> Argv,
    IReadOnlyDictionary<string, string> Environment,
    string? Cwd,
    uint? Uid,
    uint? Gid,
    string? User,
    IReadOnlyList<uint>? Groups,
    IReadOnlyList<int> Listeners,
    int? CgroupFd,
    int ParentPid)
{
    public const uint Version = 2;

    /// <summary>The most body the helper reads.</summary>
    public const int MaxBodyLength = 4 << 20;

    private const int HeaderLength = 12;

    private enum Tag : byte
    {
        Arg = 1,
        Env = 2,
        Cwd = 3,
        Uid = 4,
        Gid = 5,
        User = 6,
        Fd = 7,
        Cgroup = 8,
        Parent = 9,
        Groups = 10,
    }

    /// <summary>Linux's NGROUPS_MAX: the most supplementary groups a process can have, and the helper takes.</summary>
    public const int MaxGroups = 65536;

    /// <summary>
    /// The bytes clusterd writes on the status socket: "CLXE", version, body length, then tag-length-value records,
    /// all in host byte order. Throws <see cref="ArgumentException"/> for anything the helper would refuse.
    /// </summary>
    public byte[] Encode()
    {
        if (Argv.Count == 0 || Argv[0].Length == 0)
        {
            throw new ArgumentException("an exec request needs a program: argv is empty or starts with an empty string", nameof(Argv));
        }
        if (Groups is not null && (Gid is null || Groups.Count > MaxGroups))
        {
            throw new ArgumentException($"{Groups.Count} supplementary groups: they need a group id, and at most {MaxGroups}", nameof(Groups));
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ParentPid);

        var body = new ArrayBufferWriter<byte>();
        for (var i = 0; i < Argv.Count; i++)
        {
            WriteString(body, Tag.Arg, Argv[i], $"argv[{i}]");
        }
        foreach (var (key, value) in Environment)
        {
            if (key.Length == 0 || key.Contains('=', StringComparison.Ordinal))
            {
                throw new ArgumentException($"environment variable name '{key}' is empty or contains '='", nameof(Environment));
            }
            WriteString(body, Tag.Env, $"{key}={value}", $"environment variable {key}");
        }
        if (Cwd is not null)
        {
            WriteString(body, Tag.Cwd, Cwd, "the working directory");
        }
        if (Uid is uint uid)
        {
            WriteNumber(body, Tag.Uid, uid);
        }
        if (Gid is uint gid)
        {
            WriteNumber(body, Tag.Gid, gid);
        }
        if (User is not null)
        {
            WriteString(body, Tag.User, User, "the user name");
        }
        if (Groups is not null)
        {
            WriteHeader(body, Tag.Groups, Groups.Count * sizeof(uint));
            foreach (var group in Groups)
            {
                WriteU32(body, group);
            }
        }
        foreach (var fd in Listeners)
        {
            WriteNumber(body, Tag.Fd, Descriptor(fd));
        }
        if (CgroupFd is int cgroup)
        {
            WriteNumber(body, Tag.Cgroup, Descriptor(cgroup));
        }
        WriteNumber(body, Tag.Parent, (uint)ParentPid);
        if (body.WrittenCount > MaxBodyLength)
        {
            throw new ArgumentException($"the exec request is {body.WrittenCount} bytes, more than the helper's {MaxBodyLength}");
        }

        var request = new byte[HeaderLength + body.WrittenCount];
        "CLXE"u8.CopyTo(request);
        MemoryMarshal.Write(request.AsSpan(4), Version);
        MemoryMarshal.Write(request.AsSpan(8), (uint)body.WrittenCount);
        body.WrittenSpan.CopyTo(request.AsSpan(HeaderLength));
        return request;
    }

    private static uint Descriptor(int fd) =>
        fd >= 0 ? (uint)fd : throw new ArgumentOutOfRangeException(nameof(fd), fd, "a descriptor number is never negative");

    private static void WriteString(ArrayBufferWriter<byte> body, Tag tag, string value, string what)
    {
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"{what} contains a NUL character, which no C string can hold");
        }
        var length = Encoding.UTF8.GetByteCount(value);
        WriteHeader(body, tag, length);
        body.Advance(Encoding.UTF8.GetBytes(value, body.GetSpan(length)));
    }

    private static void WriteNumber(ArrayBufferWriter<byte> body, Tag tag, uint value)
    {
        WriteHeader(body, tag, sizeof(uint));
        WriteU32(body, value);
    }

    private static void WriteU32(ArrayBufferWriter<byte> body, uint value)
    {
        MemoryMarshal.Write(body.GetSpan(sizeof(uint)), value);
        body.Advance(sizeof(uint));
    }

    private static void WriteHeader(ArrayBufferWriter<byte> body, Tag tag, int length)
    {
        var header = body.GetSpan(5);
        header[0] = (byte)tag;
        MemoryMarshal.Write(header[1..], (uint)length);
        body.Advance(5);
    }
}
