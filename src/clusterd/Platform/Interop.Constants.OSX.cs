namespace Clusterd.Platform;

/// <summary>Darwin values; they differ from Linux for most socket and fcntl constants.</summary>
internal static class OsxConstants
{
    public const int SOL_SOCKET = 0xffff;
    public const int SO_REUSEPORT = 0x200;
    public const int F_DUPFD_CLOEXEC = 67;
    public const int MSG_DONTWAIT = 0x80;
    public const int SIG_SETMASK = 3;
    public const int WNOWAIT = 0x20;
    public const int O_CLOEXEC = 0x1000000;
    public const int O_NONBLOCK = 0x4;
    public const int O_WRONLY = 0x1;
    public const int O_CREAT = 0x200;
    public const int O_EXCL = 0x800;
    public const int O_APPEND = 0x8;
    public const int O_NOFOLLOW = 0x100;
    public const int ENOSPC = 28;
    public const int EAGAIN = 35;
    public const int SiginfoPidOffset = 12; // si_signo, si_errno, si_code, si_pid
}
