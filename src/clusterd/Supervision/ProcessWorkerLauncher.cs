using System.Collections.Concurrent;
using System.IO.Pipes;
using System.Net.Sockets;
using System.Text;
using Clusterd.Platform;

namespace Clusterd.Supervision;

/// <summary>
/// Starts workers through the <c>clusterd exec-worker</c> shim (docs/adr/0001) with <c>posix_spawn</c>, and reaps
/// them itself (docs/adr/0003). All spawns happen on one dedicated thread that lives as long as clusterd, for two
/// reasons: the listeners are made inheritable only for the span of one spawn, which must not overlap another; and
/// Linux's parent-death signal fires when the *thread* that forked the child exits, so a thread-pool thread
/// retiring would SIGKILL healthy workers.
/// </summary>
internal sealed class ProcessWorkerLauncher : IWorkerLauncher
{
    private readonly BlockingCollection<LaunchSpec> _queue = new();
    private readonly Action<SupervisorEvent> _post;
    private readonly OutputCapture _output;
    private readonly ChildReaper _reaper = new();
    private readonly Thread _thread;
    private readonly (string Path, string[] Prefix) _self;

    public ProcessWorkerLauncher(Action<SupervisorEvent> post, OutputCapture output)
    {
        _post = post;
        _output = output;
        _self = SelfCommand();
        _thread = new Thread(SpawnLoop) { IsBackground = true, Name = "clusterd spawner" };
        _thread.Start();
    }

    public void Launch(LaunchSpec spec) => _queue.Add(spec);

    /// <summary>How to run this very program again: the apphost or NativeAOT binary, or <c>dotnet clusterd.dll</c>.</summary>
    private static (string, string[]) SelfCommand()
    {
        var path = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell the path of clusterd's own executable");
        return Path.GetFileNameWithoutExtension(path) == "dotnet"
            ? (path, [Path.Combine(AppContext.BaseDirectory, "clusterd.dll")])
            : (path, []);
    }

    private void SpawnLoop()
    {
        foreach (var spec in _queue.GetConsumingEnumerable())
        {
            try
            {
                Spawn(spec);
            }
            catch (SpawnRefusedException e)
            {
                _post(new WorkerEvent(spec.Worker, spec.Incarnation, WorkerInput.SpawnFailed, Text: e.Message));
            }
            catch (Exception e)
            {
                // Whatever went wrong, this thread must live on: its end would SIGKILL every worker it started
                // (the parent-death signal is per thread). A failure we cannot name is worth another try.
                var transient = e is not ErrnoException errno || Errno.IsTransient(errno.Errno);
                _post(new WorkerEvent(spec.Worker, spec.Incarnation, WorkerInput.SpawnFailed, Text: e.Message, Transient: transient));
            }
        }
    }

    /// <summary>The user and group a worker runs as, resolved here (NSS may be slow) and only when clusterd can switch to them.</summary>
    private static (UserIdentity? User, uint? Gid) ResolveIdentity(LaunchSpec spec)
    {
        if (!UserDatabase.IsRoot)
        {
            return (null, null); // the config was refused at start if it asked for a user; see ConfigPreflight
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
        var (user, gid) = ResolveIdentity(spec);
        var environment = WorkerEnvironment.Build(WorkerEnvironment.Inherited, user, spec.Configured, spec.Contract);
        var (statusParent, statusChild) = Descriptors.CreateSocketPair();
        var (stdoutRead, stdoutWrite) = Descriptors.CreatePipe();
        var (stderrRead, stderrWrite) = Descriptors.CreatePipe();
        int pid;
        try
        {
            var options = new ExecShim.Options(
                Environment.ProcessId,
                (int)statusChild.DangerousGetHandle(),
                spec.Listeners.Select(s => (int)s.SafeHandle.DangerousGetHandle()).ToArray(),
                user?.Uid, gid, user?.Name, spec.Cwd, spec.Argv);
            string[] argv = [_self.Path, .. _self.Prefix, .. ExecShim.Format(options)];
            var env = environment.Select(e => $"{e.Key}={e.Value}").ToArray();

            // The inheritance window: only this thread spawns, so these fds reach this child and no other.
            foreach (var socket in spec.Listeners)
            {
                Descriptors.SetInheritable(socket.SafeHandle, true);
            }
            Descriptors.SetInheritable(statusChild, true);
            try
            {
                pid = PosixSpawn.Start(_self.Path, argv, env, stdoutWrite, stderrWrite);
            }
            finally
            {
                foreach (var socket in spec.Listeners)
                {
                    Descriptors.SetInheritable(socket.SafeHandle, false);
                }
            }
        }
        catch
        {
            statusParent.Dispose();
            stdoutRead.Dispose();
            stderrRead.Dispose();
            throw;
        }
        finally
        {
            // Our copies: from now on EOF on statusParent means execve happened or the shim died, and EOF on
            // the output pipes means the worker (and anything it forked) closed them.
            statusChild.Dispose();
            stdoutWrite.Dispose();
            stderrWrite.Dispose();
        }

        var exited = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        _reaper.Watch(pid, status => exited.TrySetResult(status));
        _post(new WorkerEvent(spec.Worker, spec.Incarnation, WorkerInput.Spawned, pid, Process: new ProcessGroup(pid)));
        _output.Capture(spec.Worker, pid, new AnonymousPipeClientStream(PipeDirection.In, stdoutRead), "stdout");
        _output.Capture(spec.Worker, pid, new AnonymousPipeClientStream(PipeDirection.In, stderrRead), "stderr");
        _ = WatchAsync(spec.Worker, spec.Incarnation, statusParent, exited.Task);
    }

    /// <summary>Reports the exec outcome, then the exit, in that order, whatever order they really happen in.</summary>
    private async Task WatchAsync(Worker worker, int incarnation, Socket status, Task<int> exited)
    {
        string? error;
        using (status)
        {
            error = await ReadExecStatusAsync(status);
        } // EOF or an error was all it could say: closed now, not held for the worker's whole life (one fd per worker)
        _post(error is null
            ? new WorkerEvent(worker, incarnation, WorkerInput.ExecSucceeded)
            : new WorkerEvent(worker, incarnation, WorkerInput.ExecFailed, Text: error));
        _post(new WorkerEvent(worker, incarnation, WorkerInput.Exited, await exited));
    }

    private static async Task<string?> ReadExecStatusAsync(Socket status)
    {
        var buffer = new byte[1024];
        var length = 0;
        try
        {
            int n;
            while (length < buffer.Length && (n = await status.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None)) > 0)
            {
                length += n;
            }
        }
        catch (SocketException e)
        {
            return $"lost the exec status channel: {e.Message}";
        }
        return length == 0 ? null : Encoding.UTF8.GetString(buffer, 0, length);
    }

    /// <summary>Call only once every worker has exited: the thread's end would SIGKILL any that remain (Linux).</summary>
    public void Dispose()
    {
        _queue.CompleteAdding();
        _reaper.Dispose();
    }
}

/// <summary>A spawn that cannot work as configured (no such user or group): the slot fails instead of retrying.</summary>
internal sealed class SpawnRefusedException(string message) : Exception(message);
