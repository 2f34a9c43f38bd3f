using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace TestWorker;

/// <summary>Command-line switches; see Usage.</summary>
internal sealed class Options
{
    public int? CrashAfterMs { get; set; }
    public string? CrashIfFile { get; set; }

    public string? NoReadyIfFile { get; set; }
    public string? UnhealthyIfFile { get; set; }
    public int ExitCode { get; set; } = 3;
    public bool CrashSignal { get; set; }
    public bool IgnoreTerm { get; set; }
    public bool ExitOnTerm { get; set; }
    public int DrainMs { get; set; }
    public bool Hang { get; set; }
    public bool Serial { get; set; }
    public bool Flood { get; set; }
    public int FloodLines { get; set; }
    public int FloodMs { get; set; }
    public string? Say { get; set; }
    public int SayTimes { get; set; } = 1;
    public string? SayErr { get; set; }
    public bool NoReady { get; set; }
    public int ReadyDelayMs { get; set; }
    public string? Status { get; set; }
    public int WatchdogMs { get; set; }
    public int? StopWatchdogAfterMs { get; set; }
    public int HoldConnections { get; set; }
    public string? ControlSocket { get; set; }
    public string ControlRequest { get; set; } = "{\"id\":1,\"command\":\"ping\"}";
    public bool NotifyFlood { get; set; }
    public int? HealthAfterMs { get; set; }
    public int? Serve500AfterMs { get; set; }
    public int AllocateMibPerSecond { get; set; }
}

internal static class Program
{
    private const string Usage =
        "usage: testworker [--no-ready] [--ready-delay MS] [--status TEXT] [--crash-after MS] [--exit-code N]\n" +
        "                  [--crash-signal] [--crash-if-file PATH] [--ignore-term] [--exit-on-term] [--drain-ms MS] [--hang] [--serial] [--flood] [--flood-lines N] [--flood-ms MS]\n" +
        "                  [--say TEXT] [--say-times N] [--say-err TEXT] [--watchdog-ms MS] [--stop-watchdog-after MS] [--notify-flood]\n" +
        "                  [--health-after MS] [--serve-500-after MS] [--unhealthy-if-file PATH] [--allocate-mib-per-second N]\n" +
        "       testworker --hold-connections N --control-socket PATH [--control-request JSON]";

    private static readonly TaskCompletionSource s_termRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static async Task<int> Main(string[] args)
    {
        if (!TryParse(args, out var options, out var error))
        {
            Console.Error.WriteLine($"testworker: {error}");
            Console.Error.WriteLine(Usage);
            return 2;
        }

        if (options.HoldConnections > 0)
        {
            return await ControlConnections.HoldAsync(options.ControlSocket!, options.HoldConnections, options.ControlRequest);
        }

        for (var i = 0; options.Say is not null && i < options.SayTimes; i++)
        {
            Console.Out.WriteLine(options.Say);
        }

        if (options.SayErr is not null)
        {
            Console.Error.WriteLine(options.SayErr);
        }

        // --crash-signal alone crashes at once, like --crash-after 0. --crash-if-file models a bad deploy: tests
        // create the file to make every worker started from then on crash, while those already running carry on.
        var crashAfter = options.CrashAfterMs ?? (options.CrashSignal ? 0 : null);
        if (options.CrashIfFile is not null && File.Exists(options.CrashIfFile))
        {
            crashAfter = 0;
        }
        if (crashAfter == 0)
        {
            return Crash(options);
        }
        // --no-ready-if-file: tests create the file to keep workers started from then on from ever getting ready.
        if (options.NoReadyIfFile is not null && File.Exists(options.NoReadyIfFile))
        {
            options.NoReady = true;
        }

        // Keep the registration referenced for the life of the process or the GC would unregister it.
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx =>
        {
            // Cancel the runtime's default (exit) either way; --ignore-term simply never acts on it.
            ctx.Cancel = true;
            if (options.ExitOnTerm)
            {
                Environment.Exit(0); // a worker that does not drain: whatever it has in flight is lost
            }
            if (!options.IgnoreTerm)
            {
                s_termRequested.TrySetResult();
            }
        });

        if (crashAfter is { } delay)
        {
            _ = Task.Run(async () =>
            {
                await Task.Delay(delay);
                Crash(options);
            });
        }

        if (options.WatchdogMs > 0)
        {
            StartWatchdog(options.WatchdogMs, options.StopWatchdogAfterMs);
        }

        var pid = Environment.ProcessId;
        if (options.Hang)
        {
            // Never adopt, listen or report READY: models a worker stuck during startup.
            Console.Out.WriteLine($"testworker pid={pid} hanging fds={ListenFdCount()}");
            await s_termRequested.Task;
            Notify.Send("STOPPING=1");
            return 0;
        }

        Health.HealthyAfterMs = options.HealthAfterMs;
        Health.FailAfterMs = options.Serve500AfterMs;
        Health.FailIfFile = options.UnhealthyIfFile;
        if (options.AllocateMibPerSecond > 0)
        {
            Health.Leak(options.AllocateMibPerSecond);
        }

        var listeners = AdoptListeners();
        Console.Out.WriteLine($"testworker pid={pid} listening fds={listeners.Count}");

        if (options.FloodLines > 0)
        {
            WriteFloodLines(options.FloodLines);
        }

        if (options.FloodMs > 0)
        {
            // As fast as the pipe takes it for a while, then a line that says so, every 100 ms: the first may meet a
            // full queue in clusterd and be dropped, but one of them must arrive after the flood.
            var flooded = WriteFloodLines(long.MaxValue, TimeSpan.FromMilliseconds(options.FloodMs));
            var thread = new Thread(() =>
            {
                while (true)
                {
                    Console.Out.WriteLine($"flood over after {flooded} lines");
                    Thread.Sleep(100);
                }
            }) { IsBackground = true, Name = "flood over" };
            thread.Start();
        }

        if (options.Flood)
        {
            var thread = new Thread(() => WriteFloodLines(long.MaxValue)) { IsBackground = true, Name = "flood" };
            thread.Start();
        }

        using var server = new HttpServer(listeners, options.Serial);
        server.Start();

        if (Notify.SocketPath is not null && (!options.NoReady || options.Status is not null))
        {
            if (options.ReadyDelayMs > 0)
            {
                await Task.Delay(options.ReadyDelayMs);
            }

            var message = options.NoReady ? "" : "READY=1";
            if (options.Status is not null)
            {
                message += (message.Length > 0 ? "\n" : "") + "STATUS=" + options.Status;
            }

            Notify.Send(message);
        }

        if (options.NotifyFlood && Notify.SocketPath is not null)
        {
            // After READY=1, as a worker gone haywire would: its own messages, as fast as the socket takes them.
            var thread = new Thread(Notify.Flood) { IsBackground = true, Name = "notify flood" };
            thread.Start();
            Console.Out.WriteLine($"testworker pid={pid} flooding NOTIFY_SOCKET");
        }

        await s_termRequested.Task;

        // Announce the shutdown first, as systemd services do, so the supervisor knows the exit is deliberate.
        Notify.Send("STOPPING=1");
        if (options.DrainMs > 0)
        {
            await Task.Delay(options.DrainMs);
        }

        await server.StopAsync();
        return 0;
    }

    private static int Crash(Options options)
    {
        if (options.CrashSignal)
        {
            Console.Out.Flush();
            // The runtime's own SIGSEGV handler swallows a kill()-sent SIGSEGV (it is no hardware fault),
            // so restore the default action first to die the way a genuinely crashing native worker would.
            NativeMethods.Signal(NativeMethods.SigSegv, NativeMethods.SigDfl);
            NativeMethods.Kill(Environment.ProcessId, NativeMethods.SigSegv);
            // The signal is delivered asynchronously; give it a moment before falling back to a plain exit.
            Thread.Sleep(5000);
        }

        Environment.Exit(options.ExitCode);
        return options.ExitCode;
    }

    private static int ListenFdCount() =>
        int.TryParse(Environment.GetEnvironmentVariable("LISTEN_FDS"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;

    /// <summary>sd_listen_fds semantics: the fds are ours only if LISTEN_PID names this very process.</summary>
    private static List<Listener> AdoptListeners()
    {
        var result = new List<Listener>();
        var listenPid = Environment.GetEnvironmentVariable("LISTEN_PID");
        if (listenPid != Environment.ProcessId.ToString(CultureInfo.InvariantCulture))
        {
            return result;
        }

        var count = ListenFdCount();
        var names = (Environment.GetEnvironmentVariable("LISTEN_FDNAMES") ?? "").Split(':');
        for (var i = 0; i < count; i++)
        {
            var fd = 3 + i;
            var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
            var name = i < names.Length && names[i].Length > 0 ? names[i] : "unknown";
            result.Add(new Listener(socket, fd, name));
        }

        return result;
    }

    private static void StartWatchdog(int intervalMs, int? stopAfterMs)
    {
        _ = Task.Run(async () =>
        {
            var started = Environment.TickCount64;
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(intervalMs));
            do
            {
                if (stopAfterMs is { } stop && Environment.TickCount64 - started >= stop)
                {
                    return;
                }

                Notify.Send("WATCHDOG=1");
            }
            while (await timer.WaitForNextTickAsync());
        });
    }

    /// <summary>Writes ~100-byte lines straight to fd 1, batched below PIPE_BUF so each write is atomic and whole lines never interleave with other output.</summary>
    /// <returns>How many lines were written before <paramref name="lines"/> or <paramref name="duration"/> ran out.</returns>
    private static long WriteFloodLines(long lines, TimeSpan? duration = null)
    {
        var until = duration is { } d ? Stopwatch.GetTimestamp() + (long)(d.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        using var stdout = Console.OpenStandardOutput();
        var batch = new byte[4096];
        var used = 0;
        long n = 0;
        for (; n < lines && (n % 1000 != 0 || Stopwatch.GetTimestamp() < until); n++)
        {
            var head = $"flood {n} ";
            var line = head + new string('x', Math.Max(1, 99 - head.Length)) + "\n";
            var length = Encoding.ASCII.GetBytes(line, 0, line.Length, batch, used);
            used += length;
            if (used > batch.Length - 128)
            {
                stdout.Write(batch, 0, used);
                used = 0;
            }
        }

        if (used > 0)
        {
            stdout.Write(batch, 0, used);
        }
        return n;
    }

    private static bool TryParse(string[] args, out Options options, out string? error)
    {
        options = new Options();
        error = null;
        for (var i = 0; i < args.Length; i++)
        {
            var flag = args[i];
            string? Value()
            {
                return i + 1 < args.Length ? args[++i] : null;
            }

            bool Int(out int value)
            {
                var raw = Value();
                if (raw is not null && int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out value) && value >= 0)
                {
                    return true;
                }

                value = 0;
                return false;
            }

            int v;
            switch (flag)
            {
                case "--no-ready": options.NoReady = true; break;
                case "--crash-signal": options.CrashSignal = true; break;
                case "--ignore-term": options.IgnoreTerm = true; break;
                case "--exit-on-term": options.ExitOnTerm = true; break;
                case "--hang": options.Hang = true; break;
                case "--serial": options.Serial = true; break;
                case "--flood": options.Flood = true; break;
                case "--notify-flood": options.NotifyFlood = true; break;
                case "--ready-delay" when Int(out v): options.ReadyDelayMs = v; break;
                case "--crash-after" when Int(out v): options.CrashAfterMs = v; break;
                case "--exit-code" when Int(out v): options.ExitCode = v; break;
                case "--drain-ms" when Int(out v): options.DrainMs = v; break;
                case "--flood-lines" when Int(out v): options.FloodLines = v; break;
                case "--flood-ms" when Int(out v): options.FloodMs = v; break;
                case "--watchdog-ms" when Int(out v): options.WatchdogMs = v; break;
                case "--stop-watchdog-after" when Int(out v): options.StopWatchdogAfterMs = v; break;
                case "--say-times" when Int(out v): options.SayTimes = v; break;
                case "--hold-connections" when Int(out v): options.HoldConnections = v; break;
                case "--health-after" when Int(out v): options.HealthAfterMs = v; break;
                case "--serve-500-after" when Int(out v): options.Serve500AfterMs = v; break;
                case "--allocate-mib-per-second" when Int(out v): options.AllocateMibPerSecond = v; break;
                case "--ready-delay" or "--crash-after" or "--exit-code" or "--drain-ms" or "--flood-lines" or "--flood-ms"
                    or "--watchdog-ms" or "--stop-watchdog-after" or "--say-times" or "--hold-connections"
                    or "--health-after" or "--serve-500-after" or "--allocate-mib-per-second":
                    error = $"{flag} needs a non-negative integer";
                    return false;
                case "--crash-if-file" or "--no-ready-if-file" or "--unhealthy-if-file":
                    var path = Value();
                    if (path is null)
                    {
                        error = $"{flag} needs a path";
                        return false;
                    }
                    if (flag == "--crash-if-file")
                    {
                        options.CrashIfFile = path;
                    }
                    else if (flag == "--no-ready-if-file")
                    {
                        options.NoReadyIfFile = path;
                    }
                    else
                    {
                        options.UnhealthyIfFile = path;
                    }

                    break;
                case "--status" or "--say" or "--say-err" or "--control-socket" or "--control-request":
                    var text = Value();
                    if (text is null)
                    {
                        error = $"{flag} needs a value";
                        return false;
                    }

                    if (flag == "--status")
                    {
                        options.Status = text;
                    }
                    else if (flag == "--say")
                    {
                        options.Say = text;
                    }
                    else if (flag == "--control-socket")
                    {
                        options.ControlSocket = text;
                    }
                    else if (flag == "--control-request")
                    {
                        options.ControlRequest = text;
                    }
                    else
                    {
                        options.SayErr = text;
                    }

                    break;
                default:
                    error = $"unknown flag '{flag}'";
                    return false;
            }
        }

        if (options.HoldConnections > 0 && options.ControlSocket is null)
        {
            error = "--hold-connections needs --control-socket PATH";
            return false;
        }

        return true;
    }
}
