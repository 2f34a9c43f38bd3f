using System.Diagnostics;
using System.Globalization;
using Clusterd.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Control;

/// <summary>
/// Nobody who may merely read can lock the administrators out: a reader holds at most 32 connections, idle or
/// following, and the last 16 of the 256 are kept for admins; refused and denied connections are answered and closed at once.
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
}
