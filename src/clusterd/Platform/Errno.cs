namespace Clusterd.Platform;

/// <summary>errno values clusterd acts on.</summary>
internal static class Errno
{
    public const int EINTR = 4;
    public const int ENOMEM = 12;
    public const int ENFILE = 23;
    public const int EMFILE = 24;

    public static int EAGAIN => OperatingSystem.IsMacOS() ? 35 : 11;

    public static int ENOBUFS => OperatingSystem.IsMacOS() ? 55 : 105;

    /// <summary>A resource ran short: the same call may well work a little later (spawns back off and retry).</summary>
    public static bool IsTransient(int errno) =>
        errno is EINTR or ENOMEM or ENFILE or EMFILE || errno == EAGAIN || errno == ENOBUFS;
}
