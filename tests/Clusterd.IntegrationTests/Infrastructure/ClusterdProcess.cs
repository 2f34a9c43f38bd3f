using System.Diagnostics;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Infrastructure;

/// <summary>
/// A real clusterd, started from its built binary on a config written for the test, with JSON logs read line by
/// line. Tests wait on log entries (lifecycle events) with a deadline; nothing here sleeps.
/// </summary>
internal sealed class ClusterdProcess : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly List<LogEntry> _entries = [];
    private readonly List<string> _stderr = [];
    private readonly List<(Func<IReadOnlyList<LogEntry>, bool> Done, TaskCompletionSource Tcs)> _waiters = [];
    private readonly ITestOutputHelper? _output;
    private readonly Lock _lock = new();
    private readonly Task _stdoutPump;
    private readonly Task _stderrPump;

    private ClusterdProcess(Process process, string directory, ITestOutputHelper? output)
    {
        _process = process;
        Directory = directory;
        _output = output;
        _stdoutPump = PumpAsync(process.StandardOutput, OnStdout);
        _stderrPump = PumpAsync(process.StandardError, line =>
        {
            lock (_lock)
            {
                _stderr.Add(line);
            }
            Log("stderr: " + line);
        });
    }

    public string Directory { get; }

    public string ConfigPath => Path.Combine(Directory, "clusterd.toml");

    public string ControlSocket => Path.Combine(Directory, "ctl.sock");

    /// <summary>A client on this clusterd's control socket, once clusterd has said it listens there.</summary>
    public async Task<Clusterd.Protocol.ControlClient> ConnectAsync()
    {
        await WaitForAsync(e => e.EventId == 4, what: "the control socket");
        using var cts = new CancellationTokenSource(DefaultTimeout);
        return await Clusterd.Protocol.ControlClient.ConnectAsync(ControlSocket, cts.Token);
    }

    /// <summary>One request on a fresh connection; returns its last response frame (a reload sends its plan first).</summary>
    public async Task<Clusterd.Protocol.Messages.Response> RequestAsync(Clusterd.Protocol.Messages.Request request, TimeSpan? timeout = null)
    {
        await using var client = await ConnectAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        Clusterd.Protocol.Messages.Response? last = null;
        await foreach (var response in client.StreamAsync(request, cts.Token))
        {
            last = response;
        }
        return last!;
    }

    public int Pid => _process.Id;

    public IReadOnlyList<LogEntry> Entries
    {
        get
        {
            lock (_lock)
            {
                return _entries.ToArray();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_lock)
            {
                return string.Join('\n', _stderr);
            }
        }
    }

    /// <summary>Writes <paramref name="toml"/> to a fresh directory and starts clusterd on it.</summary>
    public static ClusterdProcess Start(string toml, ITestOutputHelper? output = null, params string[] extraArgs) =>
        Start(toml, output, environment: null, launcher: null, extraArgs);

    /// <param name="environment">Extra variables for clusterd (e.g. NOTIFY_SOCKET, as a service manager sets).</param>
    /// <param name="launcher">A program that runs clusterd (e.g. systemd-socket-activate and its options).</param>
    public static ClusterdProcess Start(string toml, ITestOutputHelper? output, IReadOnlyDictionary<string, string>? environment,
        IReadOnlyList<string>? launcher, params string[] extraArgs)
    {
        var dir = Path.Combine(Path.GetTempPath(), "clusterd-test-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(dir);
        var config = Path.Combine(dir, "clusterd.toml");
        var socket = Path.Combine(dir, "ctl.sock");
        // Each test gets its own control socket: the default (/run/clusterd as root) would make parallel tests collide.
        File.WriteAllText(config, toml.Contains("[control]", StringComparison.Ordinal) ? toml : $"[control]\nsocket = \"{socket}\"\n\n{toml}");
        var argv = (launcher ?? []).Concat([Repo.Clusterd, "--config", config, "--log-format", "json", "--verbose"]).Concat(extraArgs).ToArray();
        var psi = new ProcessStartInfo(argv[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dir,
        };
        foreach (var a in argv.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }
        // Run under journald or not, worker lines go to this console unless a test says otherwise (docs/logging.md).
        psi.Environment.Remove("JOURNAL_STREAM");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[key] = value;
        }
        var process = Process.Start(psi)!;
        return new ClusterdProcess(process, dir, output);
    }

    /// <summary>Runs clusterd to completion (for --check-config and start failures).</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunToExitAsync(params string[] args)
    {
        var psi = new ProcessStartInfo(Repo.Clusterd) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(DefaultTimeout);
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout, await stderr);
    }

    private void OnStdout(string line)
    {
        Log(line);
        var entry = LogEntry.TryParse(line);
        if (entry is null)
        {
            return;
        }
        lock (_lock)
        {
            _entries.Add(entry);
            foreach (var w in _waiters.Where(w => w.Done(_entries)).ToArray())
            {
                _waiters.Remove(w);
                w.Tcs.TrySetResult();
            }
        }
    }

    private void Log(string line)
    {
        try
        {
            _output?.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // The test has finished; its output helper is closed.
        }
    }

    private static async Task PumpAsync(StreamReader reader, Action<string> onLine)
    {
        while (await reader.ReadLineAsync() is string line)
        {
            onLine(line);
        }
    }

    /// <summary>Waits until <paramref name="count"/> entries match, and returns all the matches so far.</summary>
    public async Task<IReadOnlyList<LogEntry>> WaitForAsync(Func<LogEntry, bool> match, int count = 1, TimeSpan? timeout = null, string? what = null)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_entries.Count(match) >= count)
            {
                return _entries.Where(match).ToArray();
            }
            _waiters.Add((entries => entries.Count(match) >= count, tcs));
        }
        var exited = _process.WaitForExitAsync();
        var finished = await Task.WhenAny(tcs.Task, exited, Task.Delay(timeout ?? DefaultTimeout));
        if (finished != tcs.Task)
        {
            var why = finished == exited ? $"clusterd exited with {_process.ExitCode}" : "timed out";
            throw new TimeoutException($"{why} waiting for {count} × {what ?? "a matching log entry"}; stderr:\n{Stderr}\nlast log lines:\n" +
                string.Join('\n', Entries.TakeLast(25)));
        }
        return Entries.Where(match).ToArray();
    }

    public Task<IReadOnlyList<LogEntry>> WaitForEventAsync(string kind, string group, int count = 1, Func<LogEntry, bool>? also = null, TimeSpan? timeout = null) =>
        WaitForAsync(e => e.Event == kind && e.Group == group && (also?.Invoke(e) ?? true), count, timeout, $"'{kind}' in group '{group}'");

    public IReadOnlyList<LogEntry> Events(string group) => Entries.Where(e => e.Event is not null && e.Group == group).ToArray();

    public void Signal(int signal) => Native.Kill(_process.Id, signal);

    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        await _process.WaitForExitAsync(cts.Token);
        await Task.WhenAll(_stdoutPump, _stderrPump);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    public static string Command(params string[] argv) => "[" + string.Join(", ", argv.Select(Quote)) + "]";
}
