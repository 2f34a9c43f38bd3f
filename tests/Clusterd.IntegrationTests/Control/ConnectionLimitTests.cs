using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Clusterd.IntegrationTests.Infrastructure;
using Clusterd.Protocol.Messages;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Control;

/// <summary>
/// Nobody who may merely read can lock the administrators out: a reader holds at most 32 connections, idle or
/// following, and the last 16 of the 256 are kept for admins; refused and denied connections are answered and closed
/// at once; and when clusterd runs out of descriptors, its accept loop waits instead of spinning and serves again.
/// </summary>
public sealed class ConnectionLimitTests(ITestOutputHelper output) : IDisposable
{
    private const int PerReader = 32; // docs/protocol.md, Limits

    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"clusterd-limits-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private string Socket => Path.Combine(_dir, "ctl.sock");

    private static bool RootOrSkip()
    {
        Assert.False(!Native.IsRoot && Environment.GetEnvironmentVariable("CI") == "true", "CI runs as root; the limits of another uid must be tested there");
        return Native.IsRoot;
    }

    /// <summary>clusterd whose socket the group nogroup may open; with <paramref name="readers"/>, nogroup may also read.</summary>
    private async Task<ClusterdProcess> StartAsync(bool readers)
    {
        var control = $"[control]\nsocket = \"{Socket}\"\ngroup = \"nogroup\"\n" + (readers ? "read_group = \"nogroup\"\n" : "");
        var clusterd = ClusterdProcess.Start(control + "\n" + Toml.Group("web", Toml.Worker(), 1, []), output);
        await clusterd.WaitForEventAsync("listening", "web");
        await clusterd.WaitForAsync(e => e.EventId == 4, what: "the control socket");
        return clusterd;
    }

    /// <summary>testworker --hold-connections as nobody: its one line of outcome, and its connections held until disposed.</summary>
    private sealed class Holder : IAsyncDisposable
    {
        private readonly Process _process;

        public Holder(string socket, int count, string request)
        {
            var psi = new ProcessStartInfo("setpriv") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "--reuid=nobody", "--regid=nogroup", "--init-groups", "--", Repo.TestWorker,
                "--hold-connections", count.ToString(CultureInfo.InvariantCulture), "--control-socket", socket, "--control-request", request })
            {
                psi.ArgumentList.Add(a);
            }
            psi.Environment["HOME"] = "/tmp";
            _process = Process.Start(psi)!;
        }

        public async Task<string> OutcomeAsync()
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            var line = await _process.StandardOutput.ReadLineAsync(cts.Token);
            return line ?? $"(exited {_process.ExitCode}: {await _process.StandardError.ReadToEndAsync(cts.Token)})";
        }

        public async ValueTask DisposeAsync()
        {
            _process.StandardInput.Close();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _process.WaitForExitAsync(cts.Token);
            _process.Dispose();
        }
    }

    [Theory]
    [InlineData("{\"id\":1,\"command\":\"ping\"}")]
    [InlineData("{\"id\":1,\"command\":\"logs\",\"group\":\"web\",\"follow\":true}")]
    public async Task ReaderHolding300Connections_IsHeldTo32_AndAnAdminPingIsStillAnswered(string request)
    {
        if (!RootOrSkip())
        {
            return;
        }
        await using var clusterd = await StartAsync(readers: true);
        await using var holder = new Holder(Socket, 300, request);
        var refused = 300 - PerReader;

        Assert.Equal($"held={PerReader} refused={refused} closed={refused} codes=too_many_connections:{refused}", await holder.OutcomeAsync());
        var ping = await Clusterctl.RunAsync(Socket, null, "ping");

        Assert.True(ping.ExitCode == 0, ping.Stderr);
        Assert.Single(clusterd.Entries, e => e.EventId == 302 && e["Uid"] == "65534");
    }

    [Fact]
    public async Task ReaderRefusedACommand_GetsPermissionDeniedAndTheConnectionIsClosed()
    {
        if (!RootOrSkip())
        {
            return;
        }
        await using var clusterd = await StartAsync(readers: true);
        await using var holder = new Holder(Socket, 1, "{\"id\":1,\"command\":\"scale\",\"group\":\"web\",\"count\":3}");

        Assert.Equal("held=0 refused=1 closed=1 codes=permission_denied:1", await holder.OutcomeAsync());
        var denied = Assert.Single(clusterd.Entries, e => e.EventId == 311);
        Assert.Equal(("65534", "scale"), (denied["Uid"], denied["Command"]));
    }

    [Fact]
    public async Task NeitherReaderNorAdmin_IsRefusedOnConnectAndClosed()
    {
        if (!RootOrSkip())
        {
            return;
        }
        await using var clusterd = await StartAsync(readers: false);
        await using var holder = new Holder(Socket, 3, "{\"id\":1,\"command\":\"status\"}");

        Assert.Equal("held=0 refused=3 closed=3 codes=permission_denied:3", await holder.OutcomeAsync());
        Assert.Equal(3, clusterd.Entries.Count(e => e.EventId == 313 && e["Uid"] == "65534"));
    }

    [Fact]
    public async Task OutOfDescriptors_TheAcceptLoopBacksOff_AndAnswersOnceTheyAreBack()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, []), output);
        await clusterd.WaitForEventAsync("listening", "web");
        await (await clusterd.ConnectAsync()).DisposeAsync();
        var (soft, hard) = OpenFilesLimit(clusterd.Pid);
        var highest = Directory.GetFiles($"/proc/{clusterd.Pid}/fd").Max(f => int.Parse(Path.GetFileName(f), CultureInfo.InvariantCulture));
        var clients = new List<Socket>();
        try
        {
            // A few connections take the last descriptors below the limit; the rest wait in the listen backlog until
            // it is full and connect() is refused.
            await PrlimitAsync(clusterd.Pid, highest + 3, hard);
            while (clients.Count < 1000 && await TryConnectAsync(clusterd.ControlSocket) is { } client)
            {
                clients.Add(client);
            }
            await clusterd.WaitForAsync(e => e.EventId == 300, what: "the accept loop's warning");
        }
        finally
        {
            await PrlimitAsync(clusterd.Pid, soft, hard);
        }

        // The backlog is full until the loop's next try (up to MaxDelay away) accepts again; a connect before that is
        // refused (EAGAIN), as it would be for any client. Once it accepts, the loop drains the backlog and the ping fits.
        await clusterd.WaitForAsync(e => e.EventId == 301, what: "accepting again");
        var ping = await clusterd.RequestAsync(new Request { Command = Commands.Ping });

        Assert.Equal("pong", ping.Message);
        Assert.Single(clusterd.Entries, e => e.EventId == 300);
        Assert.True(clients.Count > 3, $"only {clients.Count} connections: the backlog was never used");
        clients.ForEach(c => c.Dispose());
    }

    private static async Task<Socket?> TryConnectAsync(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cts.Token);
            return socket;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            return null;
        }
    }

    /// <summary>The soft and hard RLIMIT_NOFILE of a process, from /proc/PID/limits ("Max open files  1024  524288  files").</summary>
    private static (string Soft, string Hard) OpenFilesLimit(int pid)
    {
        var fields = File.ReadLines($"/proc/{pid}/limits").First(l => l.StartsWith("Max open files", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (fields[3], fields[4]);
    }

    private static Task PrlimitAsync(int pid, int soft, string hard) => PrlimitAsync(pid, soft.ToString(CultureInfo.InvariantCulture), hard);

    private static async Task PrlimitAsync(int pid, string soft, string hard)
    {
        var psi = new ProcessStartInfo("prlimit") { RedirectStandardError = true };
        foreach (var a in new[] { "--pid", pid.ToString(CultureInfo.InvariantCulture), $"--nofile={soft}:{hard}" })
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, await p.StandardError.ReadToEndAsync());
    }
}
