using Clusterd.Protocol.Platform;

namespace Clusterd.Platform;

internal enum FileKind { Missing, Regular, Directory, Symlink, Socket, Other }

/// <summary>
/// What is at a path, without following a symbolic link (lstat): the type, owner and permission bits. clusterd asks
/// before it binds, removes or changes a file, so it never acts on something it did not create (docs/security.md).
/// </summary>
internal readonly record struct FileStatus(FileKind Kind, uint Uid, uint Gid, uint Mode)
{
    private const int ENOENT = 2;
    private const int ENOTDIR = 20;

    public static FileStatus Missing => new(FileKind.Missing, 0, 0, 0);

    public static FileStatus Of(string path)
    {
        var errno = PathStatus.Read(path, out var status);
        if (errno != 0)
        {
            return errno is ENOENT or ENOTDIR ? Missing : throw new ErrnoException($"lstat {path}", errno);
        }
        var kind = status.Type switch
        {
            PathStatus.Regular => FileKind.Regular,
            PathStatus.Directory => FileKind.Directory,
            PathStatus.Symlink => FileKind.Symlink,
            PathStatus.Socket => FileKind.Socket,
            _ => FileKind.Other,
        };
        return new FileStatus(kind, status.Uid, status.Gid, status.Mode & 0xFFF) { Device = status.Device, Inode = status.Inode };
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
