using System.Runtime.InteropServices;

namespace Clusterd.Platform;

internal enum FileKind { Missing, Regular, Directory, Symlink, Socket, Other }

/// <summary>
/// What is at a path, without following a symbolic link (lstat): the type, owner and permission bits. clusterd asks
/// before it binds, removes or changes a file, so it never acts on something it did not create (docs/security.md).
/// </summary>
internal readonly record struct FileStatus(FileKind Kind, uint Uid, uint Gid, uint Mode)
{
    private const uint TypeMask = 0xF000; // S_IFMT
    private const int ENOENT = 2;
    private const int ENOTDIR = 20;

    public static FileStatus Missing => new(FileKind.Missing, 0, 0, 0);

    public static unsafe FileStatus Of(string path)
    {
        var buffer = stackalloc byte[256];
        new Span<byte>(buffer, 256).Clear();
        uint uid, gid, mode;
        ulong device, inode;
        int rc;
        if (OperatingSystem.IsLinux())
        {
            const int AtFdCwd = -100, AtSymlinkNoFollow = 0x100;
            const uint StatxBasicStats = 0x7ff;
            rc = Interop.statx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, buffer);
            uid = *(uint*)(buffer + 20);  // struct statx: stx_uid
            gid = *(uint*)(buffer + 24);  // stx_gid
            mode = *(ushort*)(buffer + 28); // stx_mode
            inode = *(ulong*)(buffer + 32); // stx_ino
            device = (ulong)*(uint*)(buffer + 136) << 32 | *(uint*)(buffer + 140); // stx_dev_major, stx_dev_minor
        }
        else if (OperatingSystem.IsMacOS())
        {
            rc = Interop.lstat(path, buffer);
            mode = *(ushort*)(buffer + 4);  // struct stat (64-bit inodes): st_dev, st_mode
            uid = *(uint*)(buffer + 16);
            gid = *(uint*)(buffer + 20);
            device = *(uint*)buffer;        // st_dev
            inode = *(ulong*)(buffer + 8);  // st_ino
        }
        else
        {
            throw new PlatformNotSupportedException();
        }
        if (rc != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno is ENOENT or ENOTDIR ? Missing : throw new ErrnoException($"lstat {path}", errno);
        }
        var kind = (mode & TypeMask) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0xA000 => FileKind.Symlink,
            0xC000 => FileKind.Socket,
            _ => FileKind.Other,
        };
        return new FileStatus(kind, uid, gid, mode & 0xFFF) { Device = device, Inode = inode };
    }

    /// <summary>With <see cref="Inode"/>, which file this is: a path may name another file later (st_dev, st_ino).</summary>
    public ulong Device { get; init; }

    public ulong Inode { get; init; }

    /// <summary>Whether both name the very same file (not a copy, not a newer file at the same path).</summary>
    public bool IsSameFile(FileStatus other) => Kind != FileKind.Missing && Device == other.Device && Inode == other.Inode;

    /// <summary>"a regular file", "a symbolic link", ...: for messages.</summary>
    public string Describe() => Kind switch
    {
        FileKind.Regular => "a regular file",
        FileKind.Directory => "a directory",
        FileKind.Symlink => "a symbolic link",
        FileKind.Socket => "a socket",
        FileKind.Missing => "nothing",
        _ => "a special file",
    };

    /// <summary>chmod without following a link (fchmodat AT_SYMLINK_NOFOLLOW).</summary>
    public static void ChangeMode(string path, UnixFileMode mode)
    {
        var (atFdCwd, noFollow) = OperatingSystem.IsMacOS() ? (-2, 0x20) : (-100, 0x100);
        ErrnoException.ThrowIfFailed(Interop.fchmodat(atFdCwd, path, (uint)mode, noFollow), $"chmod {path}");
    }

    /// <summary>chown without following a link (lchown); uint.MaxValue leaves that id as it is.</summary>
    public static void ChangeOwner(string path, uint uid, uint gid) =>
        ErrnoException.ThrowIfFailed(Interop.lchown(path, uid, gid), $"chown {path}");
}
