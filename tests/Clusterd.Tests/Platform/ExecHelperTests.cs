using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using Clusterd.Platform;

namespace Clusterd.Tests.Platform;

/// <summary>
/// The real clusterd-exec against the contract of docs/adr/0005, step by step, each checked from inside the worker it
/// became (real children: /bin tools that print what they were given). Errno values are Linux's. Here the helper is
/// posix_spawned; <see cref="ExecHelperThroughForkServerTests"/> runs every check again with it cloned by the fork server.
/// </summary>
public class ExecHelperTests : IDisposable
{
    private const int EPERM = 1;
    private const int ENOENT = 2;
    private const int ESRCH = 3;
    private const int EBADF = 9;
    private const int EACCES = 13;
    private const int EPROTO = 71;
    private const uint Nobody = 65534;

    /// <summary>Scratch space the worker's user can reach too: 0755 whatever the umask.</summary>
    private readonly string _dir = Directory.CreateTempSubdirectory("clusterd-exec-").FullName;

    public ExecHelperTests() => File.SetUnixFileMode(_dir, (UnixFileMode)0b111_101_101);

    /// <summary>What forks the helper; none: posix_spawn.</summary>
    internal virtual ForkServer? Server => null;

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    private Task<HelperRun> StartAsync(ExecRequest request, IReadOnlyList<SafeHandle>? listeners = null, SafeHandle? cgroup = null, string? helper = null) =>
        HelperRun.StartAsync(request, listeners, cgroup, helper, Server);

    private Task<HelperRun> RawAsync(
        Func<IReadOnlyList<int>, byte[]> requestFor, IReadOnlyList<SafeHandle>? inherited = null, Func<string, IReadOnlyList<string>>? argvFor = null) =>
        HelperRun.RawAsync(requestFor, inherited, argvFor, Server);

    private Task<HelperRun> NestedAsync(string helper, ExecRequest outer, ExecRequest inner) => HelperRun.NestedAsync(helper, outer, inner, Server);

    private static ExecRequest Request(params string[] argv) => HelperRun.Request(argv);

    private static ExecRequest AsNobody(ExecRequest request) => request with { Uid = Nobody, Gid = Nobody, User = "nobody", Groups = [Nobody] };

    private static Dictionary<string, string> Env(params (string Key, string Value)[] variables) =>
        new Dictionary<string, string>(variables.Select(v => KeyValuePair.Create(v.Key, v.Value))) { ["PATH"] = "/usr/bin:/bin" };

    // --- 6: the listeners at 3.., nothing else ---

    [Fact]
    public async Task Start_Listeners_ArriveAtFd3OnInOrder_AndNothingElseDoes()
    {
        using var first = Listen();
        using var second = Listen();

        var run = await StartAsync(Request("ls", "-l", "/proc/self/fd/"), [first.SafeHandle, second.SafeHandle]);

        Assert.Null(run.Failure);
        var fds = Children.ParseFdListing(run.Stdout);
        Assert.Equal([0, 1, 2, 3, 4], fds.Keys.Order());
        Assert.Equal("/dev/null", fds[0]);
        Assert.StartsWith("pipe:", fds[1], StringComparison.Ordinal);
        Assert.StartsWith("pipe:", fds[2], StringComparison.Ordinal);
        Assert.Equal(Children.FdTarget(first.SafeHandle), fds[3]);
        Assert.Equal(Children.FdTarget(second.SafeHandle), fds[4]);
    }

    [Fact]
    public async Task Start_InheritedDescriptorTheRequestDoesNotName_IsClosedAtExec()
    {
        using var listener = Listen();
        using var stray = Listen();

        // The spawn passes both; the request names only the first, as if clusterd had inherited the second from its parent.
        var run = await RawAsync(
            fds => (Request("ls", "-l", "/proc/self/fd/") with { Listeners = [fds[1]] }).Encode(),
            [listener.SafeHandle, stray.SafeHandle]);

        Assert.Null(run.Failure);
        var fds = Children.ParseFdListing(run.Stdout);
        Assert.Equal([0, 1, 2, 3], fds.Keys.Order());
        Assert.Equal(Children.FdTarget(listener.SafeHandle), fds[3]);
    }

    [Fact]
    public async Task Raw_ListenerThatIsNotOpen_Fails202WithEbadf()
    {
        var run = await RawAsync(_ => (Request("true") with { Listeners = [999] }).Encode());

        AssertFailed(run, ExecHelper.ExitFds, EBADF, "cannot take listener fd 999");
    }

    // --- 8: the environment, the pid variables, argv ---

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Start_Environment_IsTheRequestsWithItsOwnPidVariables(bool watchdog)
    {
        var env = Env(("GREETING", "hello world"), ("LISTEN_PID", "1"), ("EMPTY", ""));
        if (watchdog)
        {
            env["WATCHDOG_USEC"] = "30000000";
        }

        var run = await StartAsync(Request("env") with { Environment = env });

        Assert.Null(run.Failure);
        var pid = run.Pid.ToString(CultureInfo.InvariantCulture);
        string[] expected = ["PATH=/usr/bin:/bin", "GREETING=hello world", "EMPTY=", $"LISTEN_PID={pid}", $"SYSTEMD_EXEC_PID={pid}",
            .. watchdog ? ["WATCHDOG_USEC=30000000", $"WATCHDOG_PID={pid}"] : Array.Empty<string>()];
        Assert.Equal(expected.Order(), run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());
    }

    [Fact]
    public async Task Start_Argv_ReachesTheWorkerAsGiven()
    {
        var run = await StartAsync(Request("printf", "[%s]", "", "two words", "ünïcode", "-x"));

        Assert.Null(run.Failure);
        Assert.Equal("[][two words][ünïcode][-x]", run.Stdout);
    }

    [Fact]
    public async Task Start_SpawnedCallback_RunsBeforeTheWorkerCanRun()
    {
        // clusterd records the pid there, so that a READY=1 the worker sends at once cannot come from a stranger.
        string? exeWhenTold = null;
        var run = await HelperRun.CollectAsync((stdout, stderr) => ExecHelper.Start(HelperRun.HelperPath, Request("true"), [], null, stdout, stderr,
            server: Server, spawned: pid => exeWhenTold = File.ResolveLinkTarget($"/proc/{pid}/exe", returnFinalTarget: false)?.FullName));

        Assert.Null(run.Failure);
        Assert.Equal(ExecHelper.FileName, Path.GetFileName(exeWhenTold));
    }

    [Fact]
    public async Task Start_ProgramWithASlash_IsNotLookedUpOnPath()
    {
        var script = Path.Combine(_dir, "hello");
        File.WriteAllText(script, "#!/bin/sh\necho \"hello from $0\"\n");
        File.SetUnixFileMode(script, (UnixFileMode)0b111_101_101);

        var run = await StartAsync(Request(script));

        Assert.Null(run.Failure);
        Assert.Equal($"hello from {script}\n", run.Stdout);
    }

    // --- 7: the working directory ---

    [Fact]
    public async Task Start_Cwd_IsTheWorkersWorkingDirectory()
    {
        var run = await StartAsync(Request("readlink", "/proc/self/cwd") with { Cwd = _dir });

        Assert.Null(run.Failure);
        Assert.Equal(_dir + "\n", run.Stdout);
    }

    [Fact]
    public async Task Start_MissingCwd_Fails200WithEnoent()
    {
        var missing = Path.Combine(_dir, "missing");

        var run = await StartAsync(Request("true") with { Cwd = missing });

        AssertFailed(run, ExecHelper.ExitChdir, ENOENT, $"cannot change directory to '{missing}'");
    }

    [Requires(RequiresAttribute.Root)]
    public async Task Start_CwdOnlyRootMayEnter_Fails200_BecauseChdirIsAsTheWorkersUser()
    {
        var closed = Directory.CreateDirectory(Path.Combine(_dir, "root-only")).FullName;
        File.SetUnixFileMode(closed, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var run = await StartAsync(AsNobody(Request("true")) with { Cwd = closed });

        AssertFailed(run, ExecHelper.ExitChdir, EACCES, $"cannot change directory to '{closed}'");
    }

    // --- 3: the user and groups ---

    [Requires(RequiresAttribute.Root)]
    public async Task Start_AsRootWithUser_WorkerRunsAsThatUserWithItsGroupsOnly()
    {
        var run = await StartAsync(AsNobody(Request("cat", "/proc/self/status")));

        Assert.Null(run.Failure);
        var status = ProcStatus(run.Stdout);
        Assert.Equal("65534\t65534\t65534\t65534", status["Uid"]);
        Assert.Equal("65534\t65534\t65534\t65534", status["Gid"]);
        Assert.Equal("65534", status["Groups"].Trim());
    }

    [Requires(RequiresAttribute.Root)]
    public async Task Start_AsRootWithSupplementaryGroups_WorkerHasExactlyThose()
    {
        var run = await StartAsync(AsNobody(Request("cat", "/proc/self/status")) with { Groups = [4, 27, Nobody] });

        Assert.Null(run.Failure);
        var status = ProcStatus(run.Stdout);
        Assert.Equal("65534\t65534\t65534\t65534", status["Gid"]);
        Assert.Equal("4 27 65534", status["Groups"].Trim());
    }

    [Requires(RequiresAttribute.Root)]
    public async Task Start_AsRootWithIdsButNoUserName_DropsEverySupplementaryGroup()
    {
        var run = await StartAsync(Request("cat", "/proc/self/status") with { Uid = Nobody, Gid = Nobody });

        Assert.Null(run.Failure);
        var status = ProcStatus(run.Stdout);
        Assert.Equal("65534\t65534\t65534\t65534", status["Uid"]);
        Assert.Equal("", status["Groups"].Trim());
    }

    [Fact]
    public async Task Nested_NotRootAskedForUserRoot_Fails217WithEperm()
    {
        var helper = PublicHelper();

        var run = await NestedAsync(helper, Outer(helper), Request("true") with { Uid = 0 });

        AssertFailed(run, ExecHelper.ExitUser, EPERM, "cannot switch to user 0");
    }

    [Fact]
    public async Task Nested_NotRootAskedForGroupRoot_Fails216WithEperm()
    {
        var helper = PublicHelper();

        var run = await NestedAsync(helper, Outer(helper), Request("true") with { Gid = 0, User = "root" });

        AssertFailed(run, ExecHelper.ExitGroup, EPERM, "cannot switch to group 0");
    }

    // --- 4: tied to clusterd's life ---

    [Fact]
    public async Task Start_SpawningThreadEnds_WorkerIsKilled_EvenAfterTheUserChange()
    {
        // As root the helper changes user, which clears the parent-death signal: it must be armed after that.
        var request = Request("sleep", "60");
        request = UserDatabase.IsRoot ? AsNobody(request) : request;
        var (outRead, outWrite) = Descriptors.CreatePipe();
        using var unread = outRead;
        var spawned = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var throughServer = Server is not null;
        var spawner = new Thread(() =>
        {
            try
            {
                // A fork server of this thread's: the worker is tied to the thread that started the server.
                using var server = throughServer && OperatingSystem.IsLinux() ? new ForkServer(HelperRun.HelperPath) : null;
                var (pid, status) = ExecHelper.Start(HelperRun.HelperPath, request, [], null, outWrite, outWrite, server: server);
                using (status)
                {
                    Assert.Equal(0, status.Receive(new byte[1])); // EOF: sleep runs; this thread now ends
                }
                spawned.SetResult(pid);
            }
            catch (Exception e)
            {
                spawned.SetException(e);
            }
        });
        using (outWrite)
        {
            spawner.Start();
            await spawned.Task.WaitAsync(Children.Timeout);
        }
        var worker = await spawned.Task;

        var exited = Children.WaitAsync(worker);
        try
        {
            await exited.WaitAsync(Children.Timeout);
        }
        catch (TimeoutException)
        {
            Interop.kill(worker, Interop.SIGKILL); // it outlived the thread, which is the failure; not reaped, so still ours
            throw;
        }
        Assert.Equal(((int?)null, Interop.SIGKILL), WaitStatus.Decode(await exited));
    }

    [Fact]
    public async Task Raw_ParentIsNotClusterd_Fails214WithEsrch()
    {
        var run = await RawAsync(_ => (Request("true") with { ParentPid = 1 }).Encode());

        AssertFailed(run, ExecHelper.ExitSetup, ESRCH, "clusterd (pid 1) exited before the worker was tied to it");
    }

    // --- 5: its own session ---

    [Fact]
    public async Task Start_Worker_LeadsItsOwnSessionAndProcessGroup()
    {
        var run = await StartAsync(Request("cat", "/proc/self/stat"));

        Assert.Null(run.Failure);
        // pid (comm) state ppid pgrp session: comm is "cat", without spaces
        var fields = run.Stdout.Split(' ');
        Assert.Equal(run.Pid.ToString(CultureInfo.InvariantCulture), fields[0]);
        Assert.Equal(Environment.ProcessId.ToString(CultureInfo.InvariantCulture), fields[3]);
        Assert.Equal(fields[0], fields[4]);
        Assert.Equal(fields[0], fields[5]);
    }

    [Fact]
    public async Task Nested_AlreadyASessionLeader_Fails220WithEperm()
    {
        var helper = PublicHelper();

        var run = await NestedAsync(helper, Request(helper, "3"), Request("true"));

        AssertFailed(run, ExecHelper.ExitSetsid, EPERM, "cannot start a session");
    }

    // --- the spawn: signals ---

    [Fact]
    public async Task Start_SpawnerBlocksAndIgnoresSignals_WorkerHasEveryDefaultAndNoneBlocked()
    {
        const int SIGHUP = 1, SIGUSR1 = 10, SIGPIPE = 13, SIG_BLOCK = 0, SIG_UNBLOCK = 1;
        const nint SIG_IGN = 1;
        var blocked = new byte[128];
        foreach (var signal in new[] { SIGHUP, SIGUSR1, Interop.SIGTERM })
        {
            blocked[(signal - 1) / 8] |= (byte)(1 << ((signal - 1) % 8));
        }
        // The mask is the spawning thread's; ignoring SIGPIPE is the whole process's, and what the runtime does anyway.
        var previous = await Spawner.RunAsync(() =>
        {
            ErrnoException.ThrowIfFailed(Interop.sigprocmask(SIG_BLOCK, blocked, 0), "sigprocmask");
            return Interop.signal(SIGPIPE, SIG_IGN);
        });
        HelperRun run;
        try
        {
            run = await StartAsync(Request("cat", "/proc/self/status"));
        }
        finally
        {
            await Spawner.RunAsync(() => (Interop.sigprocmask(SIG_UNBLOCK, blocked, 0), Interop.signal(SIGPIPE, previous)));
        }

        Assert.Null(run.Failure);
        var status = ProcStatus(run.Stdout);
        Assert.Equal("0000000000000000", status["SigBlk"]);
        Assert.Equal("0000000000000000", status["SigIgn"]);
        Assert.Equal("0000000000000000", status["SigCgt"]);
    }

    // --- 2: the cgroup ---

    [Requires(RequiresAttribute.Root, RequiresAttribute.Cgroup2)]
    public async Task Start_Cgroup_WorkerRunsInIt()
    {
        var (parent, path) = Cgroups.Own() ?? throw new InvalidOperationException("no cgroup2 group of our own");
        var name = $"clusterd-test-{Guid.NewGuid():N}";
        var group = Directory.CreateDirectory(Path.Join(parent, name)).FullName;
        try
        {
            HelperRun run;
            using (var directory = Descriptors.OpenDirectory(group))
            {
                run = await StartAsync(Request("cat", "/proc/self/cgroup"), cgroup: directory);
            }

            Assert.Null(run.Failure);
            Assert.Contains($"0::{Path.Join(path, name)}", run.Stdout.Split('\n'));
        }
        finally
        {
            Directory.Delete(group); // rmdir: the worker is reaped, so the group is empty
        }
    }

    [Fact]
    public async Task Start_CgroupThatIsAPlainDirectory_Fails219WithEnoent()
    {
        HelperRun run;
        using (var directory = Descriptors.OpenDirectory(_dir))
        {
            run = await StartAsync(Request("true"), cgroup: directory);
        }

        AssertFailed(run, ExecHelper.ExitCgroup, ENOENT, "cannot open the worker's cgroup.procs");
    }

    // --- 8: exec ---

    [Theory]
    [InlineData("no-such-program-clusterd", "'no-such-program-clusterd' not found on PATH /usr/bin:/bin")]
    [InlineData("/nonexistent/program", "cannot execute '/nonexistent/program'")]
    public async Task Start_MissingProgram_Fails203WithEnoent(string program, string message)
    {
        var run = await StartAsync(Request(program));

        AssertFailed(run, ExecHelper.ExitExec, ENOENT, message);
    }

    [Fact]
    public async Task Start_ProgramNotExecutable_Fails203WithEacces()
    {
        var program = Path.Combine(_dir, "not-executable");
        File.WriteAllText(program, "#!/bin/sh\n");
        File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var run = await StartAsync(Request("not-executable") with
        {
            Environment = new Dictionary<string, string> { ["PATH"] = _dir },
        });

        AssertFailed(run, ExecHelper.ExitExec, EACCES, "cannot execute 'not-executable' found on PATH");
    }

    // --- 1: the request ---

    public static TheoryData<string, byte[]> MalformedRequests()
    {
        var parent = Record(9, BitConverter.GetBytes((uint)Environment.ProcessId));
        var program = Record(1, "true"u8.ToArray());
        return new TheoryData<string, byte[]>
        {
            { "nothing at all", [] },
            { "a header cut short", Encoding.ASCII.GetBytes("CLXE") },
            { "another magic", Frame("CLXF", 1, [.. program, .. parent]) },
            { "another version", Frame("CLXE", 1, [.. program, .. parent]) },
            { "a body over 4 MiB", Frame("CLXE", 2, [], length: (4u << 20) + 1) },
            { "a body shorter than it says", Frame("CLXE", 2, [.. program, .. parent], length: 200) },
            { "a record header cut short", Frame("CLXE", 2, [.. program, .. parent, 1, 0]) },
            { "a record longer than the body", Frame("CLXE", 2, [.. program, .. parent, 1, 9, 0, 0, 0, 65]) },
            { "tag 0", Frame("CLXE", 2, [.. program, .. parent, .. Record(0, [])]) },
            { "tag 11", Frame("CLXE", 2, [.. program, .. parent, .. Record(11, [])]) },
            { "a NUL in argv", Frame("CLXE", 2, [.. program, .. Record(1, "a\0b"u8.ToArray()), .. parent]) },
            { "no program", Frame("CLXE", 2, parent) },
            { "an empty program", Frame("CLXE", 2, [.. Record(1, []), .. parent]) },
            { "no parent", Frame("CLXE", 2, program) },
            { "two parents", Frame("CLXE", 2, [.. program, .. parent, .. parent]) },
            { "parent 0", Frame("CLXE", 2, [.. program, .. Record(9, BitConverter.GetBytes(0u))]) },
            { "two working directories", Frame("CLXE", 2, [.. program, .. parent, .. Record(3, "/"u8.ToArray()), .. Record(3, "/"u8.ToArray())]) },
            { "groups without a group", Frame("CLXE", 2, [.. program, .. parent, .. Record(10, BitConverter.GetBytes(27u))]) },
            { "a group list of five bytes", Frame("CLXE", 2, [.. program, .. parent, .. Record(5, BitConverter.GetBytes(1u)), .. Record(10, [1, 0, 0, 0, 0])]) },
            { "two group lists", Frame("CLXE", 2, [.. program, .. parent, .. Record(5, BitConverter.GetBytes(1u)), .. Record(10, []), .. Record(10, [])]) },
            { "a uid of three bytes", Frame("CLXE", 2, [.. program, .. parent, .. Record(4, [0, 0, 0])]) },
            { "a listener fd over INT_MAX", Frame("CLXE", 2, [.. program, .. parent, .. Record(7, BitConverter.GetBytes(0x80000000u))]) },
            { "an environment entry without =", Frame("CLXE", 2, [.. program, .. parent, .. Record(2, "PATH"u8.ToArray())]) },
            { "an environment entry with no name", Frame("CLXE", 2, [.. program, .. parent, .. Record(2, "=x"u8.ToArray())]) },
        };
    }

    [Theory]
    [MemberData(nameof(MalformedRequests))]
    public async Task Raw_MalformedRequest_Fails214WithEproto(string what, byte[] request)
    {
        var run = await RawAsync(_ => request);

        Assert.True(run.Failure is not null, $"{what}: accepted");
        AssertFailed(run, ExecHelper.ExitSetup, EPROTO, "malformed request: ");
    }

    [Theory]
    [InlineData("")]
    [InlineData("clusterd-exec")]
    [InlineData("clusterd-exec three")]
    [InlineData("clusterd-exec -1")]
    [InlineData("clusterd-exec 3 more")]
    public async Task Raw_Argv_NotOneStatusFd_Fails214WithUsage(string argv)
    {
        var run = await RawAsync(_ => Request("true").Encode(), argvFor: _ => argv.Split(' ', StringSplitOptions.RemoveEmptyEntries));

        // It cannot know where to say it: the status socket ends, with EOF or a reset, and the exit code and stderr tell.
        Assert.Equal(ExecHelper.ExitSetup, run.ExitCode);
        Assert.StartsWith("clusterd-exec: usage: clusterd-exec STATUS-FD", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Raw_StatusFdNotOpen_Fails214WithEbadfOnStderr()
    {
        var run = await RawAsync(_ => Request("true").Encode(), argvFor: _ => [ExecHelper.FileName, "999"]);

        Assert.Equal(ExecHelper.ExitSetup, run.ExitCode);
        Assert.Equal("clusterd-exec: cannot read the request: Bad file descriptor\n", run.Stderr);
    }

    [Fact]
    public void Start_RequestWithDescriptorNumbersOrANul_ThrowsArgumentException()
    {
        var (_, write) = Descriptors.CreatePipe();
        using (write)
        {
            Assert.Throws<ArgumentException>(() => ExecHelper.Start(HelperRun.HelperPath, Request("true") with { Listeners = [3] }, [], null, write, write));
            Assert.Throws<ArgumentException>(() => ExecHelper.Start(HelperRun.HelperPath, Request("true") with { Environment = Env(("A", "\0")) }, [], null, write, write));
        }
    }

    // --- the worker's environment never acts on the root helper ---

    [Requires(RequiresAttribute.Root, RequiresAttribute.Gcc)]
    public async Task Start_LdPreloadInTheWorkersEnvironment_LoadsInTheWorkerOnly_NeverAsRoot()
    {
        // A library whose constructor writes the uid of every process it is loaded into.
        var marker = Path.Combine(_dir, "uids");
        File.WriteAllText(marker, "");
        File.SetUnixFileMode(marker, (UnixFileMode)0b110_110_110);
        var source = Path.Combine(_dir, "preload.c");
        File.WriteAllText(source, $$"""
            #include <stdio.h>
            #include <unistd.h>
            __attribute__((constructor)) static void mark(void)
            {
                FILE *f = fopen("{{marker}}", "a");
                if (f) { fprintf(f, "%u\n", (unsigned)getuid()); fclose(f); }
            }
            """);
        var library = Path.Combine(_dir, "preload.so");
        await CompileAsync(library, source);
        File.SetUnixFileMode(library, (UnixFileMode)0b111_101_101);

        var run = await StartAsync(AsNobody(Request("/bin/true")) with { Environment = Env(("LD_PRELOAD", library)) });

        Assert.Null(run.Failure);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("65534\n", File.ReadAllText(marker)); // loaded once, in the worker; never in the root helper
    }

    [Fact]
    public async Task Start_LoaderVariablesInTheWorkersEnvironment_ReachOnlyTheWorkersLoader()
    {
        // LD_DEBUG makes a loader say what it does, LD_LIBRARY_PATH among it: the worker's does; the helper's hears nothing.
        var run = await StartAsync(Request("/bin/true") with
        {
            Environment = Env(("LD_DEBUG", "libs"), ("LD_LIBRARY_PATH", "/nonexistent-clusterd-test")),
        });

        Assert.Null(run.Failure);
        Assert.Contains("/nonexistent-clusterd-test", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("/bin/true", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(ExecHelper.FileName, run.Stderr, StringComparison.Ordinal);
    }

    // --- where it is ---

    [Fact]
    public void Locate_NextToTheExecutable_IsPreferred()
    {
        var bin = Directory.CreateDirectory(Path.Combine(_dir, "bin")).FullName;
        var lib = Directory.CreateDirectory(Path.Combine(_dir, "lib", "clusterd")).FullName;
        File.WriteAllText(Path.Combine(bin, ExecHelper.FileName), "");
        File.WriteAllText(Path.Combine(lib, ExecHelper.FileName), "");

        Assert.Equal(Path.Combine(bin, ExecHelper.FileName), ExecHelper.Locate(bin));
    }

    [Fact]
    public void Locate_InstalledLayout_FindsLibClusterd()
    {
        var bin = Directory.CreateDirectory(Path.Combine(_dir, "bin")).FullName;
        var lib = Directory.CreateDirectory(Path.Combine(_dir, "lib", "clusterd")).FullName;
        File.WriteAllText(Path.Combine(lib, ExecHelper.FileName), "");

        Assert.Equal(Path.Combine(lib, ExecHelper.FileName), ExecHelper.Locate(bin));
    }

    [Fact]
    public void Locate_Nowhere_IsNull()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "lib", "clusterd", ExecHelper.FileName)); // a directory is no helper

        Assert.Null(ExecHelper.Locate(Directory.CreateDirectory(Path.Combine(_dir, "bin")).FullName));
    }

    [Fact]
    public void Locate_InTheTestHost_FindsTheBuiltHelper()
    {
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, ExecHelper.FileName), ExecHelper.Locate());
    }

    // ---

    private static void AssertFailed(HelperRun run, int exitCode, int errno, string message)
    {
        Assert.Equal(exitCode, run.ExitCode);
        Assert.NotNull(run.Failure);
        Assert.Equal((exitCode, errno), (run.Failure.ExitCode, run.Failure.Errno));
        Assert.StartsWith(message, run.Failure.Message, StringComparison.Ordinal);
        Assert.Equal($"clusterd-exec: {run.Failure.Message}\n", run.Stderr);
    }

    private static Socket Listen()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Listen();
        return socket;
    }

    /// <summary>The fields of /proc/PID/status, name → value.</summary>
    private static Dictionary<string, string> ProcStatus(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(":\t", 2))
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0], parts => parts[1]);

    /// <summary>A copy of the helper that every user may run (the build tree may be under a private home).</summary>
    private string PublicHelper()
    {
        var copy = Path.Combine(_dir, ExecHelper.FileName);
        File.Copy(HelperRun.HelperPath, copy);
        File.SetUnixFileMode(copy, (UnixFileMode)0b111_101_101);
        return copy;
    }

    /// <summary>The outer helper of a nested run: as root it becomes nobody first, so that the inner one is not root.</summary>
    private static ExecRequest Outer(string helper) =>
        UserDatabase.IsRoot ? AsNobody(Request(helper, "3")) : Request(helper, "3");

    private static byte[] Record(byte tag, byte[] value) => [tag, .. BitConverter.GetBytes((uint)value.Length), .. value];

    private static byte[] Frame(string magic, uint version, byte[] body, uint? length = null) =>
        [.. Encoding.ASCII.GetBytes(magic), .. BitConverter.GetBytes(version), .. BitConverter.GetBytes(length ?? (uint)body.Length), .. body];

    private static async Task CompileAsync(string library, string source)
    {
        var (errRead, errWrite) = Descriptors.CreatePipe();
        int pid;
        using (errWrite)
        {
            pid = PosixSpawn.Start("/bin/sh", ["sh", "-c", "exec gcc -shared -fPIC -o \"$0\" \"$1\"", library, source],
                [$"PATH={RequiresAttribute.ToolPath}"], errWrite, errWrite);
        }
        var output = await Children.ReadAllAsync(errRead).WaitAsync(Children.Timeout);
        Assert.True(WaitStatus.Decode(await Children.WaitAsync(pid).WaitAsync(Children.Timeout)) == (0, null), $"gcc failed: {output}");
    }
}

/// <summary>Every check of <see cref="ExecHelperTests"/> again, with the helper cloned by its fork server, as clusterd starts it on Linux.</summary>
[SupportedOSPlatform("linux")]
public sealed class ExecHelperThroughForkServerTests : ExecHelperTests
{
    internal override ForkServer? Server => Spawner.ForkServer;
}
