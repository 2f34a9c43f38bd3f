using System.Globalization;
using System.IO.Pipes;
using System.Runtime.InteropServices;
using Clusterd.Platform;
using Microsoft.Win32.SafeHandles;

namespace Clusterd.Tests.Platform;

/// <summary>What the tests that spawn real children share: waiting for one by its pid, and reading its output.</summary>
internal static class Children
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private const int EINTR = 4;

    /// <summary>
    /// The wait status of <paramref name="pid"/>, from a blocking <c>waitpid</c> on a thread of its own: no SIGCHLD
    /// handling involved, and nobody else's child reaped.
    /// </summary>
    public static Task<int> WaitAsync(int pid) => Task.Factory.StartNew(() =>
    {
        int reaped, status;
        do
        {
            reaped = Interop.waitpid(pid, out status, 0);
        }
        while (reaped == -1 && Marshal.GetLastPInvokeError() == EINTR);
        return reaped == pid ? status : throw ErrnoException.FromLastError($"waitpid {pid}");
    }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>
    /// <c>ls -l /proc/self/fd/</c> of a child as fd → what it is ("/dev/null", "pipe:[…]", "socket:[…]"), without the
    /// directory ls opened to read it.
    /// </summary>
    public static Dictionary<int, string> ParseFdListing(string listing) =>
        listing.Split('\n')
            .Select(line => line.Split(" -> "))
            .Where(parts => parts.Length == 2 && !parts[1].StartsWith("/proc/", StringComparison.Ordinal))
            .ToDictionary(parts => int.Parse(parts[0].Split(' ')[^1], CultureInfo.InvariantCulture), parts => parts[1]);

    /// <summary>What one of our own descriptors is, in the form <see cref="ParseFdListing"/> gives: "socket:[inode]".</summary>
    public static string FdTarget(SafeHandle handle) =>
        new FileInfo($"/proc/self/fd/{handle.DangerousGetHandle()}").LinkTarget ?? throw new InvalidOperationException("not a descriptor");

    /// <summary>Everything written to the pipe until every writer has closed it; disposes <paramref name="read"/>.</summary>
    public static async Task<string> ReadAllAsync(SafePipeHandle read)
    {
        using var reader = new StreamReader(new AnonymousPipeClientStream(PipeDirection.In, read));
        return await reader.ReadToEndAsync();
    }
}
