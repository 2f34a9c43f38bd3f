using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Clusterd.Platform;

namespace Clusterd.Tests.Platform;

/// <summary>One run of clusterd-exec and the worker it became: what the helper said, what was written, how it ended.</summary>
internal sealed record HelperRun(int Pid, ExecFailure? Failure, string Stdout, string Stderr, int? ExitCode, int? Signal)
{
    /// <summary>The helper the build put next to the tests (which is also how clusterd finds it next to itself).</summary>
    public static string HelperPath =>
        ExecHelper.Locate() ?? throw new InvalidOperationException("no clusterd-exec next to the tests: the build should have put it there");

    /// <summary>The way clusterd starts it: <see cref="ExecHelper.Start"/>, through <paramref name="server"/> if there is one.</summary>
    public static Task<HelperRun> StartAsync(
        ExecRequest request, IReadOnlyList<SafeHandle>? listeners = null, SafeHandle? cgroup = null, string? helper = null,
        ForkServer? server = null) =>
        CollectAsync((stdout, stderr) => ExecHelper.Start(helper ?? HelperPath, request, listeners ?? [], cgroup, stdout, stderr, server: server));

    /// <summary>
    /// Past the encoder: <paramref name="requestFor"/> gets the helper's numbers for the status socket and then
    /// <paramref name="inherited"/>, and gives the bytes to send; <paramref name="argvFor"/> gets the status socket's
    /// number and gives the helper's argv (a posix_spawned helper's: a fork server's child has no argv of its own).
    /// </summary>
    public static Task<HelperRun> RawAsync(
        Func<IReadOnlyList<int>, byte[]> requestFor, IReadOnlyList<SafeHandle>? inherited = null,
        Func<string, IReadOnlyList<string>>? argvFor = null, ForkServer? server = null) =>
        CollectAsync((stdout, stderr) =>
        {
            var (status, child) = Descriptors.CreateSocketPair();
            byte[] request = [];
            IReadOnlyList<string> Prepare(IReadOnlyList<int> fds)
            {
                request = requestFor(fds);
                var statusFd = fds[0].ToString(CultureInfo.InvariantCulture);
                return argvFor?.Invoke(statusFd) ?? [ExecHelper.FileName, statusFd];
            }
            int pid;
            using (child)
            {
                SafeHandle[] passed = [child, .. inherited ?? []];
                if (OperatingSystem.IsLinux() && server is not null && argvFor is null)
                {
                    Prepare([.. Enumerable.Range(3, passed.Length)]);
                    pid = server.Spawn(stdout, stderr, passed);
                }
                else
                {
                    pid = PosixSpawn.Start(HelperPath, Prepare, [], stdout, stderr, passed, out _);
                }
            }
            try
            {
                status.Send(request);
                status.Shutdown(SocketShutdown.Send); // a request cut short ends here, as if clusterd had died
            }
            catch (SocketException)
            {
                // it refused its argv and exited without reading
            }
            return (pid, status);
        });

    /// <summary>
    /// clusterd-exec exec'ing clusterd-exec: the outer one does what <paramref name="outer"/> says (a user, a session) and
    /// becomes (its argv: <c>[helper, "3"]</c>) an inner one that reads <paramref name="inner"/> on fd 3. The run is the
    /// inner one's: what it cannot do once the outer one has done its part.
    /// </summary>
    public static Task<HelperRun> NestedAsync(string helper, ExecRequest outer, ExecRequest inner, ForkServer? server = null) =>
        CollectAsync((stdout, stderr) =>
        {
            var (innerStatus, innerChild) = Descriptors.CreateSocketPair();
            int pid;
            Socket outerStatus;
            using (innerChild)
            {
                (pid, outerStatus) = ExecHelper.Start(helper, outer, [innerChild], null, stdout, stderr, server: server);
            }
            using (outerStatus)
            {
                Assert.Equal(0, outerStatus.Receive(new byte[1])); // EOF: the outer one exec'd the inner one
            }
            innerStatus.Send(inner.Encode());
            return (pid, innerStatus);
        });

    /// <summary>Spawns on the <see cref="Spawner"/> thread, then collects what the helper and its worker said and how it ended.</summary>
    public static async Task<HelperRun> CollectAsync(Func<SafeHandle, SafeHandle, (int Pid, Socket Status)> start)
    {
        var (stdoutRead, stdoutWrite) = Descriptors.CreatePipe();
        var (stderrRead, stderrWrite) = Descriptors.CreatePipe();
        int pid;
        Socket status;
        using (stdoutWrite)
        using (stderrWrite)
        {
            (pid, status) = await Spawner.RunAsync(() => start(stdoutWrite, stderrWrite)).WaitAsync(Children.Timeout);
        }
        var exited = Children.WaitAsync(pid);
        ExecFailure? failure;
        using (status)
        {
            failure = await ExecHelper.ReadOutcomeAsync(status, CancellationToken.None).WaitAsync(Children.Timeout);
        }
        var stdout = await Children.ReadAllAsync(stdoutRead).WaitAsync(Children.Timeout);
        var stderr = await Children.ReadAllAsync(stderrRead).WaitAsync(Children.Timeout);
        var (code, signal) = WaitStatus.Decode(await exited.WaitAsync(Children.Timeout));
        return new HelperRun(pid, failure, stdout, stderr, code, signal);
    }

    /// <summary>A request with only what the helper cannot do without; tests add what they check.</summary>
    public static ExecRequest Request(params string[] argv) =>
        new(argv, new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" }, null, null, null, null, null, [], null, Environment.ProcessId);
}
