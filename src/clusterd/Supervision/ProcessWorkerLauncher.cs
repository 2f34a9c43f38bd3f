using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Clusterd.Platform;

namespace Clusterd.Supervision;

/// <summary>
/// Starts workers through the <c>clusterd exec-worker</c> shim (docs/adr/0001). All spawns happen on one dedicated
/// thread that lives as long as clusterd, for two reasons: the listeners are made inheritable only for the span of
/// one spawn, which must not overlap another; and Linux's parent-death signal fires when the *thread* that forked
/// the child exits, so a thread-pool thread retiring would SIGKILL healthy workers.
/// The runtime reaps the shim-then-worker process (it is a <see cref="Process"/>), so clusterd never calls waitpid.
/// </summary>
internal sealed class ProcessWorkerLauncher : IDisposable
{
    private readonly BlockingCollection<LaunchSpec> _queue = new();
    private readonly Action<SupervisorEvent> _post;
    private readonly OutputCapture _output;
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
            catch (Exception e) when (e is Win32Exception or IOException or SocketException or InvalidOperationException or ObjectDisposedException)
            {
                _post(new WorkerEvent(spec.Worker, spec.Incarnation, WorkerInput.SpawnFailed, Text: e.Message));
            }
        }
    }

    private void Spawn(LaunchSpec spec)
    {
        var (statusParent, statusChild) = Descriptors.CreateSocketPair();
        Process process;
        try
        {
            var psi = new ProcessStartInfo(_self.Path)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var a in _self.Prefix)
            {
                psi.ArgumentList.Add(a);
            }
            var options = new ExecShim.Options(
                Environment.ProcessId,
                (int)statusChild.DangerousGetHandle(),
                spec.Listeners.Select(s => (int)s.SafeHandle.DangerousGetHandle()).ToArray(),
                spec.Uid, spec.Gid, spec.User, spec.Cwd, spec.Argv);
            foreach (var a in ExecShim.Format(options))
            {
                psi.ArgumentList.Add(a);
            }
            psi.Environment.Clear();
            foreach (var (key, value) in spec.Environment)
            {
                psi.Environment[key] = value;
            }

            // The inheritance window: only this thread spawns, so these fds reach this child and no other.
            foreach (var socket in spec.Listeners)
            {
                Descriptors.SetInheritable(socket.SafeHandle, true);
            }
            Descriptors.SetInheritable(statusChild, true);
            try
            {
                process = Process.Start(psi) ?? throw new InvalidOperationException("Process.Start returned no process");
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
            throw;
        }
        finally
        {
            statusChild.Dispose(); // our copy: from now on EOF on statusParent means execve happened or the shim died
        }

        _post(new WorkerEvent(spec.Worker, spec.Incarnation, WorkerInput.Spawned, process.Id));
        _output.Capture(spec.Worker, process.Id, process.StandardOutput.BaseStream, "stdout");
        _output.Capture(spec.Worker, process.Id, process.StandardError.BaseStream, "stderr");
        _ = WatchAsync(spec, process, statusParent);
    }

    /// <summary>Reports the exec outcome, then the exit, in that order, whatever order they really happen in.</summary>
    private async Task WatchAsync(LaunchSpec spec, Process process, Socket status)
    {
        using (process)
        {
            string? error;
            using (status)
            {
                error = await ReadExecStatusAsync(status);
            } // EOF or an error was all it could say: closed now, not held for the worker's whole life (one fd per worker)
            _post(error is null
                ? new WorkerEvent(spec.Worker, spec.Incarnation, WorkerInput.ExecSucceeded)
                : new WorkerEvent(spec.Worker, spec.Incarnation, WorkerInput.ExecFailed, Text: error));
            await process.WaitForExitAsync();
            _post(new WorkerEvent(spec.Worker, spec.Incarnation, WorkerInput.Exited, process.ExitCode));
        }
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
    public void Dispose() => _queue.CompleteAdding();
}
