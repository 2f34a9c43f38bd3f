using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Clusterd.Platform;

/// <summary>
/// clusterd-exec, the small C program (native/clusterd-exec.c) that becomes each worker (docs/adr/0005): where it is,
/// how it is started and handed its <see cref="ExecRequest"/>, and how its outcome is read.
/// </summary>
internal static class ExecHelper
{
    public const string FileName = "clusterd-exec";

    // systemd's codes for the step that failed, as the helper exits with them.
    public const int ExitChdir = 200;
    public const int ExitFds = 202;
    public const int ExitExec = 203;
    public const int ExitSignals = 207;
    public const int ExitSetup = 214;
    public const int ExitGroup = 216;
    public const int ExitUser = 217;
    public const int ExitCgroup = 219;
    public const int ExitSetsid = 220;

    /// <summary>The most the helper writes: one line.</summary>
    private const int MaxStatusLength = 1024;

    /// <summary>The helper next to clusterd's executable, else in ../lib/clusterd/ (an installed clusterd); null if neither exists.</summary>
    public static string? Locate() => Locate(OwnDirectory());

    internal static string? Locate(string ownDirectory) =>
        new[] { Path.Combine(ownDirectory, FileName), Path.Combine(ownDirectory, "..", "lib", "clusterd", FileName) }
            .Select(Path.GetFullPath)
            .FirstOrDefault(File.Exists);

    /// <summary>The executable's directory; under <c>dotnet clusterd.dll</c> (and a test host) the app's, not dotnet's.</summary>
    private static string OwnDirectory()
    {
        var path = Environment.ProcessPath;
        return path is null || Path.GetFileNameWithoutExtension(path) == "dotnet"
            ? AppContext.BaseDirectory
            : Path.GetDirectoryName(path)!;
    }

    /// <summary>
    /// Spawns the helper at <paramref name="helper"/> as the ADR says (an empty environment; stdin on /dev/null, the
    /// pipes on 1 and 2; the status socket, the listeners and the cgroup directory above every descriptor it reads) and
    /// writes it the request. <paramref name="request"/> comes without descriptors: its <see cref="ExecRequest.Listeners"/>
    /// and <see cref="ExecRequest.CgroupFd"/> are the numbers the spawn gives <paramref name="listeners"/> and
    /// <paramref name="cgroup"/>. Throws before the spawn only (a request the helper would refuse, a failed spawn);
    /// once there is a child its pid is returned, and the status socket says how it ended (<see cref="ReadOutcomeAsync"/>).
    /// Call it from a thread that lives as long as the worker should: on Linux the helper ties the worker's life to it.
    /// <paramref name="spawned"/> is told the pid before the request goes out, that is before the worker can run (and,
    /// say, send READY=1): whatever it records about the pid is in place by then. If it throws, the helper gets no
    /// request and exits.
    /// With <paramref name="server"/> (Linux) the helper is a fork of the fork server rather than a spawn of
    /// <paramref name="helper"/>, placed the same way, and becomes the worker with one exec instead of two; a spawn with
    /// more descriptors than one message carries goes by posix_spawn still.
    /// </summary>
    public static (int Pid, Socket Status) Start(
        string helper, ExecRequest request, IReadOnlyList<SafeHandle> listeners, SafeHandle? cgroup, SafeHandle stdout, SafeHandle stderr,
        Action<int>? spawned = null, ForkServer? server = null)
    {
        if (request.Listeners.Count != 0 || request.CgroupFd is not null)
        {
            throw new ArgumentException("the spawn places the descriptors: pass the handles, not numbers", nameof(request));
        }
        var (status, statusChild) = Descriptors.CreateSocketPair();
        byte[] encoded = [];
        IReadOnlyList<string> Prepare(IReadOnlyList<int> fds)
        {
            // Before the spawn: a request the helper would refuse throws here, with no child to clean up.
            encoded = (request with
            {
                Listeners = [.. fds.Skip(1).Take(listeners.Count)],
                CgroupFd = cgroup is null ? null : fds[^1],
            }).Encode();
            return [FileName, fds[0].ToString(CultureInfo.InvariantCulture)];
        }

        int pid;
        try
        {
            using (statusChild) // our copy goes at once: EOF on status then means the helper's copy is gone too
            {
                SafeHandle[] inherited = cgroup is null ? [statusChild, .. listeners] : [statusChild, .. listeners, cgroup];
                if (OperatingSystem.IsLinux() && server is not null && ForkServer.Fits(inherited.Length))
                {
                    Prepare([.. Enumerable.Range(3, inherited.Length)]); // where the server's child puts them
                    pid = server.Spawn(stdout, stderr, inherited, lastIsCgroup: cgroup is not null);
                }
                else
                {
                    pid = PosixSpawn.Start(helper, Prepare, [], stdout, stderr, inherited, out _);
                }
            }
            spawned?.Invoke(pid);
        }
        catch
        {
            status.Dispose();
            throw;
        }

        try
        {
            // Blocking is fine: the helper reads the request before anything else, and it is at most 4 MiB.
            for (var sent = 0; sent < encoded.Length;)
            {
                sent += status.Send(encoded.AsSpan(sent));
            }
        }
        catch (SocketException)
        {
            // The helper is gone already (killed, or it refused the header and said why): its line and its exit tell.
        }
        return (pid, status);
    }

    /// <summary>
    /// Reads the status socket to its end: null if the helper exec'd the worker (EOF with nothing said), else what
    /// went wrong. Does not dispose <paramref name="status"/>.
    /// </summary>
    public static async Task<ExecFailure?> ReadOutcomeAsync(Socket status, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxStatusLength];
        var length = 0;
        try
        {
            int n;
            while (length < buffer.Length && (n = await status.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, cancellationToken)) > 0)
            {
                length += n;
            }
        }
        catch (SocketException e) when (length == 0)
        {
            return new ExecFailure(ExitSetup, 0, $"lost the exec status channel: {e.Message}");
        }
        catch (SocketException)
        {
            // Linux ends with ECONNRESET instead of EOF when the helper exits with part of the request unread.
        }
        return length == 0 ? null : ExecFailure.Parse(Encoding.UTF8.GetString(buffer, 0, length));
    }
}
