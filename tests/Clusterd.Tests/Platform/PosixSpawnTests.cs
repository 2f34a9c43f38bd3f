using System.Diagnostics;
using System.IO.Pipes;
using Clusterd.Platform;

namespace Clusterd.Tests.Platform;

/// <summary>Real children: the spawn, the output pipes, the reaper and the wait-status decoding together.</summary>
public sealed class PosixSpawnTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
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
        return (pid, exited.Task, ReadAll(outRead), ReadAll(errRead));
    }

    private static async Task<string> ReadAll(Microsoft.Win32.SafeHandles.SafePipeHandle read)
    {
        using var reader = new StreamReader(new AnonymousPipeClientStream(PipeDirection.In, read));
        return await reader.ReadToEndAsync();
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

    /// <summary>Blocks until <paramref name="pid"/> has exited, without reaping it (WNOWAIT).</summary>
    private static unsafe void WaitUntilZombie(int pid)
    {
        var info = stackalloc byte[128];
        const int P_PID = 1;
        Assert.Equal(0, Interop.waitid(P_PID, pid, info, Interop.WEXITED | Constants.WNoWait));
    }
}
