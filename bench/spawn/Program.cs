// What a spawn costs: the time from the spawn call until /bin/true has been exec'd, and until it has exited and been
// reaped, started three ways, interleaved round by round: a plain posix_spawn (the floor), through clusterd-exec, and
// through the NativeAOT `clusterd exec-worker` shim it replaces; the last two also as `nobody` when run as root (the
// privilege drop's initgroups reads /etc/group). Medians and 90th percentiles in milliseconds. Wall time needs an idle
// machine; the CPU time (the spawning thread's and the child's own, from /proc/.../schedstat, in ns) does not.
//
//   make publish
//   dotnet publish bench/spawn -c Release -r linux-x64 -p:PublishAot=true -o bench/.work/spawn
//   bench/.work/spawn/spawn-bench dist/linux-x64 [ROUNDS]
using System.Diagnostics;
using System.Globalization;
using Clusterd.Platform;

if (args.Length is < 1 or > 2)
{
    Console.Error.WriteLine("usage: spawn-bench DIST_DIR [ROUNDS]  (DIST_DIR: where make publish put clusterd and clusterd-exec)");
    return 2;
}
var dist = Path.GetFullPath(args[0]);
var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1000;
var helper = Path.Combine(dist, ExecHelper.FileName);
var shim = Path.Combine(dist, "clusterd");
using var devNull = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Write);
var parent = Environment.ProcessId;
var worker = new ExecRequest(["/bin/true"], new Dictionary<string, string>(), null, null, null, null, [], null, parent);
var nobody = worker with { Uid = 65534, Gid = 65534, User = "nobody" };

var ways = new List<(string Name, Func<Sample> Spawn)>
{
    ("posix_spawn (the floor)", () => Floor()),
    ("clusterd-exec", () => Helper(worker)),
    ("exec-worker shim", () => Shim(null)),
};
if (Environment.UserName == "root")
{
    ways.Add(("clusterd-exec, as nobody", () => Helper(nobody)));
    ways.Add(("exec-worker shim, as nobody", () => Shim(65534)));
}

foreach (var (_, spawn) in ways)
{
    for (var i = 0; i < 20; i++)
    {
        spawn(); // warm the page cache and the runtime's paths
    }
}
var samples = ways.Select(_ => new List<Sample>(rounds)).ToArray();
for (var round = 0; round < rounds; round++)
{
    for (var w = 0; w < ways.Count; w++)
    {
        samples[w].Add(ways[w].Spawn());
    }
}

Console.WriteLine($"{rounds} rounds, {Environment.ProcessorCount} CPUs, {Environment.OSVersion}");
Console.WriteLine("| started through | to exec | p90 | to exit | p90 | CPU: spawner | child | total | over the floor |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
var floor = Median(samples[0].Select(s => s.SpawnerCpu + s.ChildCpu));
for (var w = 0; w < ways.Count; w++)
{
    var exec = samples[w].Select(s => s.ExecTicks).ToList();
    var exit = samples[w].Select(s => s.ExitTicks).ToList();
    var cpu = Median(samples[w].Select(s => s.SpawnerCpu + s.ChildCpu));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {ways[w].Name} | {Ms(Median(exec))} | {Ms(P90(exec))} | {Ms(Median(exit))} | {Ms(P90(exit))} " +
        $"| {Ns(Median(samples[w].Select(s => s.SpawnerCpu)))} | {Ns(Median(samples[w].Select(s => s.ChildCpu)))} | {Ns(cpu)} | {Ns(cpu - floor)} |"));
}
return 0;

// glibc's posix_spawn returns once the child has exec'd (it is a vfork): that is the floor's "exec".
Sample Floor()
{
    var (start, cpu) = (Stopwatch.GetTimestamp(), SpawnerCpu());
    var pid = PosixSpawn.Start("/bin/true", ["true"], [], devNull, devNull);
    return Reap(start, cpu, Stopwatch.GetTimestamp(), pid);
}

Sample Helper(ExecRequest request)
{
    var (start, cpu) = (Stopwatch.GetTimestamp(), SpawnerCpu());
    var (pid, status) = ExecHelper.Start(helper, request, [], null, devNull, devNull);
    return Finish(start, cpu, pid, status);
}

Sample Shim(uint? user)
{
    var (start, cpu) = (Stopwatch.GetTimestamp(), SpawnerCpu());
    var (status, child) = Descriptors.CreateSocketPair();
    int pid;
    using (child)
    {
        pid = PosixSpawn.Start(shim, fds => [shim, .. ExecShim.Format(new ExecShim.Options(
                parent, fds[0], [], user, user, user is null ? null : "nobody", null, ["/bin/true"]))],
            ["PATH=/usr/bin:/bin"], devNull, devNull, [child], out _);
    }
    return Finish(start, cpu, pid, status);
}

Sample Finish(long start, long cpu, int pid, System.Net.Sockets.Socket status)
{
    using (status)
    {
        if (status.Receive(new byte[1024]) != 0)
        {
            throw new InvalidOperationException("the exec failed: run the tests (tests/Clusterd.Tests, ExecHelperTests)");
        }
    }
    return Reap(start, cpu, Stopwatch.GetTimestamp(), pid);
}

/// Waits for the exit without reaping (WNOWAIT), so that the zombie's schedstat still tells its CPU time, then reaps.
static unsafe Sample Reap(long start, long spawnerCpu, long exec, int pid)
{
    const int P_PID = 1;
    var info = stackalloc byte[128];
    ErrnoException.ThrowIfFailed(Interop.waitid(P_PID, pid, info, Interop.WEXITED | Constants.WNoWait), "waitid");
    var exit = Stopwatch.GetTimestamp();
    var spawner = SpawnerCpu() - spawnerCpu;
    var child = Schedstat($"/proc/{pid}/schedstat");
    if (Interop.waitpid(pid, out var status, 0) != pid || WaitStatus.Decode(status) != (0, null))
    {
        throw new InvalidOperationException($"pid {pid} did not exit 0");
    }
    return new Sample(exec - start, exit - start, spawner, child);
}

static long SpawnerCpu() => Schedstat("/proc/thread-self/schedstat");

/// The first field: nanoseconds on a CPU.
static long Schedstat(string path) => long.Parse(File.ReadAllText(path).Split(' ')[0], CultureInfo.InvariantCulture);

static long Median(IEnumerable<long> values) => Percentile(values, 0.5);

static long P90(IEnumerable<long> values) => Percentile(values, 0.9);

static long Percentile(IEnumerable<long> values, double p)
{
    var sorted = values.Order().ToList();
    return sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(p * sorted.Count))];
}

static string Ms(long ticks) => (ticks * 1000.0 / Stopwatch.Frequency).ToString("0.000", CultureInfo.InvariantCulture);

static string Ns(long ns) => (ns / 1e6).ToString("0.000", CultureInfo.InvariantCulture);

/// <summary>Wall times in Stopwatch ticks; CPU times in ns.</summary>
internal readonly record struct Sample(long ExecTicks, long ExitTicks, long SpawnerCpu, long ChildCpu);
