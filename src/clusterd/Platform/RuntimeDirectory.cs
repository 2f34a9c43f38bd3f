namespace Clusterd.Platform;

/// <summary>
/// A directory clusterd keeps sockets in (the control socket's, the notify sockets'). If clusterd makes it, it makes
/// it with the given mode; if it exists, it must be a real directory (not a link), owned by clusterd's user or root,
/// and writable by nobody else: otherwise another user could swap a socket clusterd or clusterctl then trusts.
/// Only the directory itself is checked, not its parents.
/// </summary>
internal static class RuntimeDirectory
{
    private const uint GroupOrOtherWrite = 0x12; // S_IWGRP | S_IWOTH
    private const uint OtherWrite = 0x2;          // S_IWOTH
    private const uint Sticky = 0x200;            // S_ISVTX

    /// <exception cref="IOException">The directory exists and is not safe, or cannot be made.</exception>
    public static void Ensure(string path, UnixFileMode mode, string what)
    {
        var status = FileStatus.Of(path);
        if (status.Kind == FileKind.Missing)
        {
            Directory.CreateDirectory(path, mode);
            FileStatus.ChangeMode(path, mode); // the umask takes bits away, and the mode's "others may traverse" must stay
            status = FileStatus.Of(path);
        }
        if (Problem(status, path, what) is { } problem)
        {
            throw new IOException(problem);
        }
    }

    /// <summary>What <see cref="Ensure"/> would refuse, found without changing anything (for <c>clusterd --check-config</c>), or null.</summary>
    public static string? Check(string path, string what)
    {
        var status = FileStatus.Of(path);
        return status.Kind == FileKind.Missing ? null : Problem(status, path, what);
    }

    private static string? Problem(FileStatus status, string path, string what)
    {
        var me = UserDatabase.EffectiveUid;
        if (status.Kind != FileKind.Directory)
        {
            return $"{what} {path} is {status.Describe()}, not a directory; remove it or choose another path";
        }
        if (status.Uid != me && status.Uid != 0)
        {
            return $"{what} {path} belongs to uid {status.Uid}, not to clusterd's user (uid {me}) or root; another user may have made it: remove it, or `chown {me} {path}` if it is yours";
        }
        if ((status.Mode & GroupOrOtherWrite) == 0)
        {
            return null;
        }
        var mode = Convert.ToString(status.Mode, 8);
        return (status.Mode & (Sticky | OtherWrite)) == (Sticky | OtherWrite)
            ? $"{what} {path} is shared by every user (mode {mode}, like /tmp); put the socket in a directory of its own instead, e.g. {Path.Combine(path, "clusterd")}/"
            : $"{what} {path} is writable by {((status.Mode & OtherWrite) != 0 ? "everyone" : "its group")} (mode {mode}); make it writable by its owner only: `chmod go-w {path}`";
    }
}
