namespace Clusterd.Platform;

/// <summary>Picks the running OS's value; everything else in Platform/ goes through here.</summary>
internal static class Constants
{
    public static int SolSocket => OperatingSystem.IsMacOS() ? OsxConstants.SOL_SOCKET : LinuxConstants.SOL_SOCKET;
    public static int SoReusePort => OperatingSystem.IsMacOS() ? OsxConstants.SO_REUSEPORT : LinuxConstants.SO_REUSEPORT;
    public static int FDupFdCloexec => OperatingSystem.IsMacOS() ? OsxConstants.F_DUPFD_CLOEXEC : LinuxConstants.F_DUPFD_CLOEXEC;
    public static int MsgDontWait => OperatingSystem.IsMacOS() ? OsxConstants.MSG_DONTWAIT : LinuxConstants.MSG_DONTWAIT;
    public static int WNoWait => OperatingSystem.IsMacOS() ? OsxConstants.WNOWAIT : LinuxConstants.WNOWAIT;
    public static int SiginfoPidOffset => OperatingSystem.IsMacOS() ? OsxConstants.SiginfoPidOffset : LinuxConstants.SiginfoPidOffset;
    public static int OCloexec => OperatingSystem.IsMacOS() ? OsxConstants.O_CLOEXEC : LinuxConstants.O_CLOEXEC;
    public static int ONonblock => OperatingSystem.IsMacOS() ? OsxConstants.O_NONBLOCK : LinuxConstants.O_NONBLOCK;
    public static int OWrOnly => OperatingSystem.IsMacOS() ? OsxConstants.O_WRONLY : LinuxConstants.O_WRONLY;
    public static int OCreat => OperatingSystem.IsMacOS() ? OsxConstants.O_CREAT : LinuxConstants.O_CREAT;
    public static int OExcl => OperatingSystem.IsMacOS() ? OsxConstants.O_EXCL : LinuxConstants.O_EXCL;
    public static int OAppend => OperatingSystem.IsMacOS() ? OsxConstants.O_APPEND : LinuxConstants.O_APPEND;
    public static int ONoFollow =>
        OperatingSystem.IsMacOS() ? OsxConstants.O_NOFOLLOW
        : System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? LinuxConstants.O_NOFOLLOW_ARM64
        : LinuxConstants.O_NOFOLLOW_X64;
    public static int ENoSpc => OperatingSystem.IsMacOS() ? OsxConstants.ENOSPC : LinuxConstants.ENOSPC;
    public static int EAgain => OperatingSystem.IsMacOS() ? OsxConstants.EAGAIN : LinuxConstants.EAGAIN;
    public static int SigSetMask => OperatingSystem.IsMacOS() ? OsxConstants.SIG_SETMASK : LinuxConstants.SIG_SETMASK;
}
