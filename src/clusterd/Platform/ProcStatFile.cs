using System.Globalization;
using System.Runtime.Versioning;

namespace Clusterd.Platform;

/// <summary>/proc/PID/stat (proc(5)), read with one open and one read into the caller's buffer: no stream, no string.</summary>
[SupportedOSPlatform("linux")]
internal static class ProcStatFile
{
    /// <summary>How many bytes were read (the line's start, as much as fits), or -1 if the process is gone or hidden (hidepid).</summary>
    public static int Read(int pid, Span<byte> buffer)
    {
        try
        {
            using var file = File.OpenHandle(string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}/stat"));
            return RandomAccess.Read(file, buffer, fileOffset: 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
    }
}
