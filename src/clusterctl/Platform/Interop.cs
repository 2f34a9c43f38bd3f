using System.Runtime.InteropServices;

namespace Clusterctl.Platform;

/// <summary>The libc calls clusterctl makes itself: writing stdout (<see cref="StandardOutputStream"/>). C names.</summary>
internal static partial class Interop
{
    private const string Libc = "libc";

    internal const int StdoutFileno = 1;
    internal const int Eintr = 4;
    internal const int Epipe = 32;
    internal const short Pollout = 4;

    internal static int Eagain => OperatingSystem.IsMacOS() ? 35 : 11;

    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport(Libc, EntryPoint = "write", SetLastError = true)]
    internal static partial nint write(int fd, ReadOnlySpan<byte> buffer, nuint count);

    [LibraryImport(Libc, EntryPoint = "poll", SetLastError = true)]
    internal static partial int poll(ref PollFd fds, nuint count, int timeout);
}
