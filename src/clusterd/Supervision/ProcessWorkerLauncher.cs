using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Pipes;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Clusterd.Platform;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Clusterd.Supervision;

/// <summary>
/// Starts workers through clusterd-exec (docs/adr/0005): forked by its fork server on Linux, else by <c>posix_spawn</c>;
/// and sees them through to their end (docs/adr/0003, 0005). All spawns happen on one dedicated thread that lives as
/// long as clusterd: Linux's parent-death signal fires when the *thread* that forked the child exits, so a thread-pool
/// thread retiring would SIGKILL healthy workers.
/// On Linux each worker gets a pidfd and, where clusterd may create cgroups, a cgroup of its own; clusterd is the
/// subreaper of everything its workers start, and reaps a worker's main process only once its whole tree is gone.
/// </summary>
internal sealed partial class ProcessWorkerLauncher : IWorkerLauncher
{
    /// <summary>Spawns, checks, and the odd action that must run on this thread (the exec of an upgrade).</summary>
    private readonly BlockingCollection<Action> _queue = new();
    private readonly Action<SupervisorEvent> _post;
    private readonly OutputCapture _output;
    private readonly ILogger _logger;
    private readonly string _helper;
    private readonly ForkServer? _forkServer;
    private readonly LinuxProcessTracker? _linux;
    private readonly ChildReaper? _reaper;
    private long _spawns;
    private long _lastTakenMs = Environment.TickCount64;

    /// <param name="reapOrphans">
    /// Become the subreaper of every worker's descendants and reap them (Linux). Only for the daemon: it would take the
    /// exits of children that something else in the process (a test host's <c>Process</c>) started.
    /// </param>
    public ProcessWorkerLauncher(Action<SupervisorEvent> post, OutputCapture output, ILogger logger, bool reapOrphans)
    {
        _post = post;
        _output = output;
        _logger = logger;
        _helper = ExecHelper.Locate() ?? throw new FileNotFoundException(
            $"{ExecHelper.FileName} is missing: it belongs next to clusterd ({Path.GetDirectoryName(Environment.ProcessPath)}) or in ../lib/clusterd/; reinstall clusterd");
        if (OperatingSystem.IsLinux())
        {
            _linux = new LinuxProcessTracker(reapOrphans, e => LogWatcherFailed(e));
            Containment = _linux.Containment;
            _forkServer = new ForkServer(_helper);
        }
        else
        {
            _reaper = new ChildReaper();
            Containment = "each worker's process group";
        }
        SpawnerThread.Start(SpawnLoop, RunOnSpawner);
    }

    /// <summary>What stands for a worker's tree here, for the start log.</summary>
    public string Containment { get; }

    public void Launch(LaunchSpec spec) => _queue.Add(() => SpawnWorker(spec));

    /// <summary>
    /// Started on the spawner thread as a worker is, so it is tied to clusterd's life and its exit is the tracker's
    /// (never an orphan reaper's); in a cgroup of its own where there are cgroups, else its own process group.
    /// </summary>
    public Task<string?> RunCheckAsync(LaunchSpec spec, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = new TaskCompletionSource<(Socket Status, ITrackedProcess Process, Socket Output)>(TaskCreationOptions.RunContinuationsAsynchronously);
        _queue.Add(() =>
        {
            if (cancellationToken.IsCancellationRequested)
            {
                started.TrySetCanceled(cancellationToken); // the worker went while the check waited its turn
                return;
            }
            try
            {
                started.TrySetResult(StartCheck(spec));
            }
            catch (Exception e)
            {
                started.TrySetException(e);
            }
        }, CancellationToken.None); // taken even if the worker goes meanwhile: the spawner thread then says so
        return WaitForCheckAsync(started.Task, timeout, cancellationToken);
    }

    private static async Task<string?> WaitForCheckAsync(
        Task<(Socket Status, ITrackedProcess Process, Socket Output)> starting, TimeSpan timeout, CancellationToken cancellationToken)
    {
        (Socket, ITrackedProcess, Socket) started;
        try
        {
            started = await starting;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return $"cannot start the check: {e.Message}"; // no user, no descriptors, no cgroup: a failed check, said why
        }
        var (status, process, output) = started;
        return await Health.CommandCheck.WaitAsync(status, process, output, timeout, cancellationToken);
    }

    private (Socket Status, ITrackedProcess Process, Socket Output) StartCheck(LaunchSpec spec)
    {
        // One socket for stdout and stderr together, read through the runtime's epoll loop: no thread waits on a check.
        var (output, outputChild) = Descriptors.CreateSocketPair();
        try
        {
            using (outputChild) // our copy goes at once: EOF then means the check and everything it started are done writing
            {
                var name = string.Create(CultureInfo.InvariantCulture, $"{spec.Worker.Slot}-check-{Interlocked.Increment(ref _spawns)}");
                var (status, process) = Start(spec, name, outputChild, outputChild, tracked: null);
                return (status, process, output);
            }
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    public bool SpawnerMovedWithin(TimeSpan within) =>
        Environment.TickCount64 - Volatile.Read(ref _lastTakenMs) < within.TotalMilliseconds;

    private void SpawnLoop()
    {
        foreach (var spawn in _queue.GetConsumingEnumerable())
        {
            Volatile.Write(ref _lastTakenMs, Environment.TickCount64);
            spawn();
        }
        if (OperatingSystem.IsLinux())
        {
            _forkServer?.Dispose(); // here, on the thread that uses it, once Dispose has ended the queue
        }
    }

    private void SpawnWorker(LaunchSpec spec)
    {
        try
        {
            Spawn(spec);
        }
        catch (Exception e) when (e is SpawnRefusedException or Health.MemoryLimitException)
        {
            _post(new WorkerEvent(spec.Worker, spec.Incarnation, WorkerInput.SpawnFailed, Text: e.Message));
        }
        catch (Exception e)
        {
            // Whatever went wrong, this thread must live on: its end would SIGKILL every worker it started
            // (the parent-death signal is per thread). A failure we cannot name is worth another try.
            var transient = e is not ErrnoException errno || ExecFailure.IsTransient(errno.Errno);
            _post(new WorkerEvent(spec.Worker, spec.Incarnation, WorkerInput.SpawnFailed, Text: e.Message, Transient: transient));
        }
    }

    /// <summary>The user and group a worker runs as, resolved here (NSS may be slow) and only when clusterd can switch to them.</summary>
    private static (UserIdentity? User, uint? Gid) ResolveIdentity(LaunchSpec spec)
    {
        if (!UserDatabase.IsRoot)
        {
            return (null, null); // a config that names a user is refused unless clusterd is root (ConfigValidator)
        }
        UserIdentity? user = null;
        if (spec.User is not null)
        {
            user = UserDatabase.LookupUser(spec.User) ?? throw new SpawnRefusedException($"no such user '{spec.User}'");
        }
        var gid = user?.Gid;
        if (spec.Group is not null)
        {
            gid = UserDatabase.LookupGroup(spec.Group) ?? throw new SpawnRefusedException($"no such group '{spec.Group}'");
        }
        return (user, gid);
    }

    private void Spawn(LaunchSpec spec)
    {
        Socket status;
        ITrackedProcess process;
        SafePipeHandle? stdoutRead = null, stdoutWrite = null, stderrRead = null, stderrWrite = null;
        try
        {
            (stdoutRead, stdoutWrite) = Descriptors.CreatePipe();
            (stderrRead, stderrWrite) = Descriptors.CreatePipe();
            var worker = spec.Worker;
            (status, process) = Start(spec, string.Create(CultureInfo.InvariantCulture, $"{worker.Slot}-g{worker.Generation}-{Interlocked.Increment(ref _spawns)}"),
                stdoutWrite, stderrWrite,
                tracked: child =>
                {
                    // Before the helper gets its request, so before the worker runs: the loop knows the pid by the time
                    // the worker's first READY=1 can arrive.
                    _post(new WorkerEvent(spec.Worker, spec.Incarnation, WorkerInput.Spawned, child.Pid, Process: child));
                });
        }
        catch
        {
            stdoutRead?.Dispose();
            stderrRead?.Dispose();
            throw;
        }
        finally
        {
            // Our copies: from now on EOF on the output pipes means the worker (and anything it forked) closed them.
            stdoutWrite?.Dispose();
            stderrWrite?.Dispose();
        }

        _output.Capture(spec.Worker, process.Pid, new AnonymousPipeClientStream(PipeDirection.In, stdoutRead), "stdout");
        _output.Capture(spec.Worker, process.Pid, new AnonymousPipeClientStream(PipeDirection.In, stderrRead), "stderr");
        _ = WatchAsync(spec.Worker, spec.Incarnation, status, process);
    }

    /// <summary>
    /// Starts <paramref name="spec"/>'s program through the helper, as its user, in a fresh cgroup named
    /// <paramref name="cgroupName"/> (Linux, where there are cgroups), with <paramref name="stdout"/> and
    /// <paramref name="stderr"/>. <paramref name="tracked"/> is told of the process before it runs.
    /// </summary>
    private (Socket Status, ITrackedProcess Process) Start(
        LaunchSpec spec, string cgroupName, SafeHandle stdout, SafeHandle stderr, Action<ITrackedProcess>? tracked)
    {
        var (user, gid) = ResolveIdentity(spec);
        // As initgroups would: the user's groups with the worker's gid (a `group` of the config's, else the user's own).
        var groups = user is not null && gid is uint primary ? UserDatabase.SupplementaryGroups(user.Name, primary) : null;
        var request = new ExecRequest(
            spec.Argv,
            WorkerEnvironment.Build(WorkerEnvironment.Inherited, user, spec.Configured, spec.Contract),
            spec.Cwd, user?.Uid, gid, user?.Name, groups, Listeners: [], CgroupFd: null, Environment.ProcessId);
        WorkerCgroup? cgroup = null;
        ITrackedProcess? process = null;
        Socket status;
        try
        {
            if (OperatingSystem.IsLinux())
            {
                cgroup = _linux!.CreateCgroup(spec.Worker.Group.Name, cgroupName, spec.MemoryMax);
            }
            using var cgroupDirectory = cgroup is null ? null : Descriptors.OpenDirectory(cgroup.Path);
            var window = OperatingSystem.IsLinux() ? _linux!.SpawnWindow : null;
            window?.Enter();
            try
            {
                (_, status) = ExecHelper.Start(_helper, request, [.. spec.Listeners.Select(l => l.SafeHandle)], cgroupDirectory, stdout, stderr,
                    server: _forkServer,
                    spawned: child =>
                    {
                        try
                        {
                            process = Track(child, cgroup);
                        }
                        finally
                        {
                            window?.Exit();
                            window = null;
                        }
                        tracked?.Invoke(process);
                    });
            }
            finally
            {
                window?.Exit(); // no child came of it
            }
        }
        catch
        {
            if (process is null)
            {
                cgroup?.Dispose(); // else the process owns it, and gives it back once the helper has exited
            }
            throw;
        }
        return (status, process!);
    }

    private ITrackedProcess Track(int pid, WorkerCgroup? cgroup)
    {
        if (!OperatingSystem.IsLinux())
        {
            return new ProcessGroup(pid, _reaper!);
        }
        try
        {
            return _linux!.Track(pid, cgroup);
        }
        catch
        {
            cgroup?.Dispose();
            throw;
        }
    }

    /// <summary>Reports the exec outcome, then the exit, in that order, whatever order they really happen in.</summary>
    private async Task WatchAsync(Worker worker, int incarnation, Socket status, ITrackedProcess process)
    {
        ExecFailure? failure;
        using (status)
        {
            failure = await ExecHelper.ReadOutcomeAsync(status, CancellationToken.None);
        } // EOF or an error was all it could say: closed now, not held for the worker's whole life (one fd per worker)
        _post(failure is null
            ? new WorkerEvent(worker, incarnation, WorkerInput.ExecSucceeded)
            : new WorkerEvent(worker, incarnation, WorkerInput.ExecFailed, Text: failure.Message, Transient: failure.Transient));
        await WatchExitAsync(worker, incarnation, process);
    }

    /// <summary>Reports the exit: <see cref="WorkerInput.Exited"/>, or MainExited then TreeGone.</summary>
    private async Task WatchExitAsync(Worker worker, int incarnation, ITrackedProcess process)
    {
        var exit = await process.MainExited;
        if (process.TreeGone.IsCompleted)
        {
            _post(new WorkerEvent(worker, incarnation, WorkerInput.Exited, exit));
            return;
        }
        _post(new WorkerEvent(worker, incarnation, WorkerInput.MainExited, exit));
        await process.TreeGone;
        _post(new WorkerEvent(worker, incarnation, WorkerInput.TreeGone));
    }


    /// <summary>Call only once every worker has exited: the thread's end would SIGKILL any that remain (Linux).</summary>
    public void Dispose()
    {
        _queue.CompleteAdding();
        if (OperatingSystem.IsLinux())
        {
            _linux!.Dispose();
        }
        _reaper?.Dispose();
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Error,
        Message = "watching worker exits failed; carrying on. This probably indicates a bug in clusterd")]
    private partial void LogWatcherFailed(Exception e);
}

/// <summary>A spawn that cannot work as configured (no such user or group): the slot fails instead of retrying.</summary>
internal sealed class SpawnRefusedException(string message) : Exception(message);
