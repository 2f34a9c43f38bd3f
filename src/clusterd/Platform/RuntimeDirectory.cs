namespace Clusterd.Platform;

/// <summary>
/// A directory clusterd keeps sockets in (the control socket's, the notify sockets'). If clusterd makes it, it makes
/// it with the given mode; if it exists, it must be a real directory (not a link), owned by clusterd's user or root,
/// and writable by nobody else: otherwise another user could swap a socket clusterd or clusterctl then trusts.
/// </summary>
internal static class RuntimeDirectory
{
    /// <exception cref="IOException">The directory exists and is not safe, or cannot be made.</exception>
    public static void Ensure(string path, UnixFileMode mode, string what)
    {
        var status = FileStatus.Of(path);
        var created = status.Kind == FileKind.Missing;
        if (created)
        {
            Directory.CreateDirectory(path, mode);
            status = FileStatus.Of(path);
        }
        var me = UserDatabase.EffectiveUid;
        if (status.Kind != FileKind.Directory)
        {
            throw new IOException($"{what} {path} is {status.Describe()}, not a directory; remove it or choose another path");
        }
        if (status.Uid != me && status.Uid != 0)
        {
            throw new IOException($"{what} {path} belongs to uid {status.Uid}, not to clusterd's user (uid {me}) or root; another user may have made it: remove it, or `chown {me} {path}` if it is yours");
        }
        if ((status.Mode & 0x12) != 0) // S_IWGRP | S_IWOTH
        {
            throw new IOException($"{what} {path} is writable by {((status.Mode & 0x2) != 0 ? "everyone" : "its group")} (mode {Convert.ToString(status.Mode, 8)}); make it writable by its owner only: `chmod go-w {path}`");
        }
        if (created && status.Mode != (uint)mode)
        {
            FileStatus.ChangeMode(path, mode); // the umask took bits asked for (clusterd.service has UMask=0027)
        }
    }
}
