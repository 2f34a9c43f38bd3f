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
    public static int EAgain => OperatingSystem.IsMacOS() ? OsxConstants.EAGAIN : LinuxConstants.EAGAIN;
    public static int SigSetMask => OperatingSystem.IsMacOS() ? OsxConstants.SIG_SETMASK : LinuxConstants.SIG_SETMASK;
}
