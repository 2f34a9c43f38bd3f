using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Clusterd.Platform;
using Microsoft.Win32.SafeHandles;

namespace Clusterd.Tests.Platform;

/// <summary>
/// The fork server itself (docs/adr/0005, "The fork server"): its protocol, its lifetime, and what it keeps between
/// spawns. What its children do is <see cref="ExecHelperThroughForkServerTests"/>: every helper check, through it.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class ForkServerTests : IDisposable
{
    private const int EPROTO = 71;

    private readonly string _dir = Directory.CreateTempSubdirectory("clusterd-fork-server-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task KilledBetweenSpawns_IsReplaced_AndTheNextSpawnRuns()
    {
        using var server = new ForkServer(HelperRun.HelperPath);
        var first = await HelperRun.StartAsync(HelperRun.Request("true"), server: server);
        var killed = server.Pid;
        var gone = Children.WaitAsync(killed); // the server is our child: reaped here, so ForkServer finds it gone (ECHILD)
        Assert.Equal(0, Interop.kill(killed, Interop.SIGKILL));
        Assert.Equal(((int?)null, Interop.SIGKILL), WaitStatus.Decode(await gone.WaitAsync(Children.Timeout)));

        var second = await HelperRun.StartAsync(HelperRun.Request("echo", "after"), server: server);

        Assert.Equal((null, 0), (first.Failure, first.ExitCode));
        Assert.Equal((null, 0, "after\n"), (second.Failure, second.ExitCode, second.Stdout));
        Assert.NotEqual(0, server.Pid);
        Assert.NotEqual(killed, server.Pid);
    }

    [Fact]
    public async Task DiesWithTheSpawnInHand_TheSpawnFailsWithIOException_AndTheServerIsDropped()
    {
        // A stand-in that takes one message (the descriptors are discarded with it) and exits without a reply. bash, not
        // sh: dash redirects from single-digit fds only, and the socket lands above every fd the test host has open.
        var script = Path.Combine(_dir, "takes-one-and-dies");
        File.WriteAllText(script, "#!/bin/bash\n/usr/bin/head -c 1 <&\"$2\" > /dev/null\n");
        File.SetUnixFileMode(script, (UnixFileMode)0b111_101_101);
        using var server = new ForkServer(script);

        var failure = await Assert.ThrowsAsync<IOException>(() => HelperRun.StartAsync(HelperRun.Request("true"), server: server));

        Assert.Matches(@"^the fork server \(pid \d+\) exited during a spawn$", failure.Message);
        Assert.Equal(0, server.Pid);
    }

    [Fact]
    public async Task MalformedMessages_AreRefusedWithEproto_ThenItServes_AndItEndsAtEof()
    {
        var (control, serverEnd) = Descriptors.CreateSocketPair(SocketType.Seqpacket);
        var (outRead, outWrite) = Descriptors.CreatePipe();
        int pid;
        using (serverEnd)
        {
            pid = await Spawner.RunAsync(() => PosixSpawn.Start(HelperRun.HelperPath,
                fds => [ExecHelper.FileName, "--fork-server", fds[0].ToString(CultureInfo.InvariantCulture)], [],
                outWrite, outWrite, [serverEnd], out _));
        }
        var serverExited = Children.WaitAsync(pid);
        var (status, statusChild) = Descriptors.CreateSocketPair();
        using (control)
        using (outRead)
        using (outWrite)
        using (status)
        using (statusChild)
        {
            int[] three = [(int)outWrite.DangerousGetHandle(), (int)outWrite.DangerousGetHandle(), (int)statusChild.DangerousGetHandle()];

            Assert.Equal(-EPROTO, Exchange(control, Header("CLXE", 2), three)); // another magic
            Assert.Equal(-EPROTO, Exchange(control, Header("CLXF", 3), three)); // another version
            Assert.Equal(-EPROTO, Exchange(control, Header("CLXF", 2)[..8], three)); // version 1's shorter message
            Assert.Equal(-EPROTO, Exchange(control, [.. Header("CLXF", 2), 0], three)); // a longer message
            Assert.Equal(-EPROTO, Exchange(control, Header("CLXF", 2), three[..2])); // no status socket
            Assert.Equal(-EPROTO, Exchange(control, Header("CLXF", 2, cgroup: 2), three)); // the status socket as the cgroup
            Assert.Equal(-EPROTO, Exchange(control, Header("CLXF", 2, cgroup: 3), three)); // a cgroup past the last fd
            Assert.Equal(-EPROTO, Exchange(control, Header("CLXF", 2, cgroup: -2), three));
            var child = Exchange(control, Header("CLXF", 2), three);

            Assert.True(child > 0, $"no child: {child}");
            var childExited = Children.WaitAsync(child); // ours, not the server's: waitpid would fail with ECHILD otherwise
            statusChild.Dispose();
            status.Shutdown(SocketShutdown.Send); // no request: it says so and exits
            var failure = await ExecHelper.ReadOutcomeAsync(status, CancellationToken.None).WaitAsync(Children.Timeout);
            Assert.Equal((ExecHelper.ExitSetup, EPROTO), (failure?.ExitCode, failure?.Errno));
            Assert.Equal((ExecHelper.ExitSetup, (int?)null), WaitStatus.Decode(await childExited.WaitAsync(Children.Timeout)));
        }

        Assert.Equal((0, (int?)null), WaitStatus.Decode(await serverExited.WaitAsync(Children.Timeout))); // EOF: it ends
    }

    [Fact]
    public async Task ManySpawns_LeaveTheServersMemoryAndDescriptorsAsTheyWere()
    {
        // Each child reads its request (here ~100 KiB: one variable may not pass 128 KiB) into its own copy of the server's
        // memory: the server itself keeps nothing of a spawn, neither memory nor a descriptor.
        using var server = new ForkServer(HelperRun.HelperPath);
        var big = HelperRun.Request("true") with
        {
            Environment = new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin", ["BIG"] = new string('x', 100 << 10) },
        };
        Assert.Equal(0, (await HelperRun.StartAsync(big, server: server)).ExitCode);
        var before = (VmSize(server.Pid), OpenDescriptors(server.Pid));

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(0, (await HelperRun.StartAsync(big, server: server)).ExitCode);
        }

        Assert.Equal(before, (VmSize(server.Pid), OpenDescriptors(server.Pid)));
    }

    [Fact]
    public async Task AChildThatIsStuck_HoldsUpNoOtherSpawn_TheSameServerServesTheNext()
    {
        using var server = new ForkServer(HelperRun.HelperPath);
        // A child whose request never comes waits as one in a `cwd` on a dead network mount would: before its exec.
        var (status, statusChild) = Descriptors.CreateSocketPair();
        var (outRead, outWrite) = Descriptors.CreatePipe();
        int stuck;
        using (statusChild)
        using (outWrite)
        {
            stuck = await Spawner.RunAsync(() => server.Spawn(outWrite, outWrite, [statusChild]));
        }
        var stuckExited = Children.WaitAsync(stuck);
        var serving = server.Pid;

        var next = await HelperRun.StartAsync(HelperRun.Request("echo", "next"), server: server);

        Assert.Equal((null, 0, "next\n"), (next.Failure, next.ExitCode, next.Stdout));
        Assert.Equal(serving, server.Pid);
        Assert.False(stuckExited.IsCompleted); // it still waits for its request
        status.Dispose(); // now it reads EOF, says so and exits
        Assert.Equal((ExecHelper.ExitSetup, (int?)null), WaitStatus.Decode(await stuckExited.WaitAsync(Children.Timeout)));
        outRead.Dispose();
    }

    [Requires(RequiresAttribute.Root, RequiresAttribute.Cgroup2)]
    public async Task WithACgroup_TheChildIsBornInIt_NotMovedThereByItsFirstStep()
    {
        // Moving into a cgroup waits for an RCU grace period after a quiet spell (ADR 0005): the child must not need to.
        // Before its request comes, a child that joins its cgroup as its first step is still in the server's.
        using var server = new ForkServer(HelperRun.HelperPath);
        var (parent, path) = Cgroups.Own() ?? throw new InvalidOperationException("no cgroup2 group of our own");
        var name = $"clusterd-test-{Guid.NewGuid():N}";
        var group = Directory.CreateDirectory(Path.Join(parent, name)).FullName;
        try
        {
            async Task<string> CgroupBeforeItsRequest(bool lastIsCgroup)
            {
                var (status, statusChild) = Descriptors.CreateSocketPair();
                var (outRead, outWrite) = Descriptors.CreatePipe();
                using var directory = Descriptors.OpenDirectory(group);
                int child;
                using (statusChild)
                using (outWrite)
                {
                    child = await Spawner.RunAsync(() => server.Spawn(outWrite, outWrite, [statusChild, directory], lastIsCgroup));
                }
                var exited = Children.WaitAsync(child);
                var cgroup = File.ReadLines($"/proc/{child}/cgroup").Single(l => l.StartsWith("0::", StringComparison.Ordinal))[3..];
                status.Dispose(); // no request: it says so and exits
                Assert.Equal((ExecHelper.ExitSetup, (int?)null), WaitStatus.Decode(await exited.WaitAsync(Children.Timeout)));
                outRead.Dispose();
                return cgroup;
            }

            Assert.Equal(Path.Join(path, name), await CgroupBeforeItsRequest(lastIsCgroup: true));
            Assert.NotEqual(Path.Join(path, name), await CgroupBeforeItsRequest(lastIsCgroup: false));
        }
        finally
        {
            Directory.Delete(group); // rmdir: both children are reaped, so the group is empty
        }
    }

    [Fact]
    public async Task MoreDescriptorsThanOneMessageCarries_GoByPosixSpawn()
    {
        using var server = new ForkServer(HelperRun.HelperPath);
        var listeners = Enumerable.Range(0, ForkServer.MaxDescriptors).Select(_ => File.OpenHandle("/dev/null")).ToList();
        try
        {
            var run = await HelperRun.StartAsync(HelperRun.Request("ls", "-l", "/proc/self/fd/"), [.. listeners], server: server);

            Assert.Null(run.Failure);
            Assert.Equal(Enumerable.Range(0, 3 + ForkServer.MaxDescriptors), Children.ParseFdListing(run.Stdout).Keys.Order());
            Assert.Equal(0, server.Pid); // never started
        }
        finally
        {
            listeners.ForEach(l => l.Dispose());
        }
    }

    private static byte[] Header(string magic, int version, int cgroup = -1)
    {
        var header = new byte[12];
        System.Text.Encoding.ASCII.GetBytes(magic, header);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(4), version);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(8), cgroup);
        return header;
    }

    private static int Exchange(Socket control, byte[] message, int[] fds)
    {
        Assert.Equal(message.Length, Descriptors.SendWithDescriptors(control.SafeHandle, message, fds));
        var reply = new byte[4];
        Assert.Equal(4, control.Receive(reply));
        return BinaryPrimitives.ReadInt32LittleEndian(reply);
    }

    private static string VmSize(int pid) =>
        File.ReadAllLines($"/proc/{pid}/status").Single(line => line.StartsWith("VmSize:", StringComparison.Ordinal));

    private static int OpenDescriptors(int pid) => Directory.GetFiles($"/proc/{pid}/fd").Length;
}
