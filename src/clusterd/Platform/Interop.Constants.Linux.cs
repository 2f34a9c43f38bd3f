namespace Clusterd.Platform;

/// <summary>Linux values (x86-64 and arm64 agree on all of these but O_NOFOLLOW).</summary>
internal static class LinuxConstants
{
    public const int SOL_SOCKET = 1;
    public const int SO_REUSEPORT = 15;
    public const int SO_PASSCRED = 16;
    public const int SCM_RIGHTS = 1;
    public const int SCM_CREDENTIALS = 2;
    public const int F_DUPFD_CLOEXEC = 1030;
    public const int O_CLOEXEC = 0x80000;
    public const int O_NONBLOCK = 0x800;
    public const int O_WRONLY = 0x1;
    public const int O_CREAT = 0x40;
    public const int O_EXCL = 0x80;
    public const int O_APPEND = 0x400;
    public const int O_NOFOLLOW_X64 = 0x20000; // x86-64 and arm64 differ here (asm-generic has 0x8000)
    public const int O_NOFOLLOW_ARM64 = 0x8000;
    public const int ENOENT = 2;
    public const int ENOSPC = 28;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_TRUNC = 0x20;
    public const int MSG_CMSG_CLOEXEC = 0x40000000;
    public const int SIG_SETMASK = 2;
    public const int PR_SET_PDEATHSIG = 1;
    public const uint CLOSE_RANGE_CLOEXEC = 1u << 2;
    public const int WNOWAIT = 0x01000000;
    public const int EAGAIN = 11;
    public const int SiginfoPidOffset = 16; // si_signo, si_errno, si_code, padding, then the union's si_pid
}
