using System.Runtime.InteropServices;

namespace Clusterd.Protocol.Platform;

/// <summary>
/// What lstat(2) says of a path, without following a symbolic link: <see cref="Mode"/> is st_mode (the S_IFMT type
/// bits and the permission bits), the owner, and which file it is (<see cref="Device"/>, <see cref="Inode"/>). The one
/// reading both clusterd and clusterctl use.
/// </summary>
public readonly record struct PathStatus(uint Mode, uint Uid, uint Gid)
{
    public const uint TypeMask = 0xF000;  // S_IFMT
    public const uint Directory = 0x4000; // S_IFDIR
    public const uint Regular = 0x8000;   // S_IFREG
    public const uint Symlink = 0xA000;   // S_IFLNK
    public const uint Socket = 0xC000;    // S_IFSOCK

    public uint Type => Mode & TypeMask;

    /// <summary>st_dev: with <see cref="Inode"/>, names the file itself, which a path may stop naming.</summary>
    public ulong Device { get; init; }

    public ulong Inode { get; init; }

    /// <returns>0, or the errno of the failed call (ENOENT or ENOTDIR: nothing is there).</returns>
    public static unsafe int Read(string path, out PathStatus status)
    {
        status = default;
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
            uid = *(uint*)(buffer + 20);    // struct statx: stx_uid
            gid = *(uint*)(buffer + 24);    // stx_gid
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
            return Marshal.GetLastPInvokeError();
        }
        status = new PathStatus(mode, uid, gid) { Device = device, Inode = inode };
        return 0;
    }
}
