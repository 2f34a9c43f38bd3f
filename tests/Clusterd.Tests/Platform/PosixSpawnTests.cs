using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Clusterd.Platform;

namespace Clusterd.Tests.Platform;

/// <summary>Real children: the spawn, the output pipes, the reaper and the wait-status decoding together.</summary>
public sealed class PosixSpawnTests : IDisposable
{
    private static readonly TimeSpan s_timeout = Children.Timeout;
    private readonly ChildReaper _reaper = new();

    public void Dispose() => _reaper.Dispose();

    private (int Pid, Task<int> Exited, Task<string> Stdout, Task<string> Stderr) Start(string script)
    {
        var (outRead, outWrite) = Descriptors.CreatePipe();
        var (errRead, errWrite) = Descriptors.CreatePipe();
        int pid;
        using (outWrite)
        using (errWrite)
        {
            pid = PosixSpawn.Start("/bin/sh", ["/bin/sh", "-c", script], ["PATH=/usr/bin:/bin", "GREETING=hello"], outWrite, errWrite);
        }
        var exited = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        _reaper.Watch(pid, status => exited.TrySetResult(status));
        return (pid, exited.Task, Children.ReadAllAsync(outRead), Children.ReadAllAsync(errRead));
    }

    [Fact]
    public async Task Start_OutputEnvironmentAndStdin_AreWhatTheSpawnArranged()
    {
        var child = Start("echo \"out $GREETING\"; echo err >&2; read line; echo \"stdin eof $?\"; exit 3");

        Assert.Equal("out hello\nstdin eof 1\n", await child.Stdout.WaitAsync(s_timeout));
        Assert.Equal("err\n", await child.Stderr.WaitAsync(s_timeout));
        Assert.Equal((3, (int?)null), WaitStatus.Decode(await child.Exited.WaitAsync(s_timeout)));
    }

    [Fact]
    public async Task Exit137_IsAnExitCode_AndSigkill_IsASignal()
    {
        var byCode = Start("exit 137");
        var bySignal = Start("kill -KILL $$");

        Assert.Equal((137, (int?)null), WaitStatus.Decode(await byCode.Exited.WaitAsync(s_timeout)));
        Assert.Equal(((int?)null, 9), WaitStatus.Decode(await bySignal.Exited.WaitAsync(s_timeout)));
    }

    [Fact]
    public async Task Watch_ChildAlreadyExited_ReportsItAtOnce()
    {
        var (outRead, outWrite) = Descriptors.CreatePipe();
        int pid;
        using (outRead)
        using (outWrite)
        {
            pid = PosixSpawn.Start("/bin/sh", ["/bin/sh", "-c", "exit 5"], [], outWrite, outWrite);
        }
        WaitUntilZombie(pid); // its SIGCHLD has come and gone before anyone watched it

        var exited = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        _reaper.Watch(pid, status => exited.TrySetResult(status));

        Assert.Equal((5, (int?)null), WaitStatus.Decode(await exited.Task.WaitAsync(s_timeout)));
    }

    [Fact]
    public async Task Reaper_LeavesProcessChildrenToTheRuntime()
    {
        using var other = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "exit 7"]))!;
        var ours = Start("exit 4");

        Assert.Equal((4, (int?)null), WaitStatus.Decode(await ours.Exited.WaitAsync(s_timeout)));
        await other.WaitForExitAsync().WaitAsync(s_timeout);
        Assert.Equal(7, other.ExitCode);
    }

    [Fact]
    public async Task Start_EmptyEnvironment_ChildHasNoVariables()
    {
        var (outRead, outWrite) = Descriptors.CreatePipe();
        int pid;
        using (outWrite)
        {
            pid = PosixSpawn.Start("/usr/bin/env", ["env"], [], outWrite, outWrite);
        }

        Assert.Equal("", await Children.ReadAllAsync(outRead).WaitAsync(s_timeout));
        Assert.Equal((0, (int?)null), WaitStatus.Decode(await Children.WaitAsync(pid).WaitAsync(s_timeout)));
    }

    [Fact]
    public async Task Start_InheritedHandles_ArriveInOrderAboveEverySource()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var (pipeRead, pipeWrite) = Descriptors.CreatePipe();
        var (outRead, outWrite) = Descriptors.CreatePipe();
        var highestSource = new[] { pipeRead, outWrite, (SafeHandle)listener.SafeHandle }.Max(h => (int)h.DangerousGetHandle());
        var pipeTarget = Children.FdTarget(pipeRead);
        int pid;
        int[] placed;
        using (pipeWrite)
        using (pipeRead)
        using (outWrite)
        {
            // ls is the child itself (no shell): it lists what the spawn gave it and the directory it reads, and anything
            // the test host itself has without close-on-exec (from whatever started it), which is not the spawn's.
            pid = PosixSpawn.Start("/bin/ls", _ => ["ls", "-l", "/proc/self/fd/"], [], outWrite, outWrite,
                [pipeRead, listener.SafeHandle], out placed);
        }
        var fds = Children.ParseFdListing(await Children.ReadAllAsync(outRead).WaitAsync(s_timeout));
        Assert.Equal((0, (int?)null), WaitStatus.Decode(await Children.WaitAsync(pid).WaitAsync(s_timeout)));

        Assert.True(placed[0] > highestSource, $"fd {placed[0]} is not above every source (up to {highestSource})");
        Assert.Equal(placed[0] + 1, placed[1]);
        Assert.Equal("/dev/null", fds[0]);
        Assert.StartsWith("pipe:", fds[1], StringComparison.Ordinal);
        Assert.Equal([1, 2], fds.Where(fd => fd.Value == fds[1]).Select(fd => fd.Key).Order()); // the copies on the way are closed
        Assert.Equal(pipeTarget, fds[placed[0]]);
        Assert.Equal(Children.FdTarget(listener.SafeHandle), fds[placed[1]]);
    }

    /// <summary>Blocks until <paramref name="pid"/> has exited, without reaping it (WNOWAIT).</summary>
    private static unsafe void WaitUntilZombie(int pid)
    {
        var info = stackalloc byte[128];
        const int P_PID = 1;
        Assert.Equal(0, Interop.waitid(P_PID, pid, info, Interop.WEXITED | Constants.WNoWait));
    }
}
