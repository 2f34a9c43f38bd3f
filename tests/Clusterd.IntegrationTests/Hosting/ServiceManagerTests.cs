using System.Net.Sockets;
using System.Text;
using Clusterd.IntegrationTests.Infrastructure;
using Clusterd.Protocol.Messages;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Hosting;

/// <summary>clusterd as a service: sd_notify upward to a (test) service manager, and sockets passed in by one.</summary>
public class ServiceManagerTests(ITestOutputHelper output)
{
    /// <summary>Plays the service manager's end of NOTIFY_SOCKET: collects every datagram.</summary>
    private sealed class NotifyListener : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        private readonly List<string> _messages = [];
        private readonly Lock _lock = new();

        public NotifyListener()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"clusterd-notify-{Guid.NewGuid():N}.sock");
            _socket.Bind(new UnixDomainSocketEndPoint(Path));
            _ = ReceiveAsync();
        }

        public string Path { get; }

        public IReadOnlyList<string> Messages
        {
            get
            {
                lock (_lock)
                {
                    return [.. _messages];
                }
            }
        }

        private async Task ReceiveAsync()
        {
            var buffer = new byte[8192];
            try
            {
                while (true)
                {
                    var n = await _socket.ReceiveAsync(buffer);
                    lock (_lock)
                    {
                        _messages.Add(Encoding.UTF8.GetString(buffer, 0, n));
                    }
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        }

        public Task<string> WaitForAsync(Func<string, bool> match, string what) =>
            Wait.UntilAsync(() => Messages.Any(match), what).ContinueWith(_ => Messages.First(match), TaskScheduler.Default);

        public void Dispose()
        {
            _socket.Dispose();
            File.Delete(Path);
        }
    }

    [Fact]
    public async Task UnderANotifyingManager_ReportsReadyStatusWatchdogReloadAndStop()
    {
        using var manager = new NotifyListener();
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker("--ready-delay", "300"), 2, [$"127.0.0.1:{port}"]), output,
            new Dictionary<string, string> { ["NOTIFY_SOCKET"] = manager.Path, ["WATCHDOG_USEC"] = "400000" }, launcher: null);

        await manager.WaitForAsync(m => m == "READY=1", "READY=1");
        await manager.WaitForAsync(m => m == "WATCHDOG=1", "a watchdog ping");
        var reload = await clusterd.RequestAsync(new Request { Command = Commands.Reload });
        await manager.WaitForAsync(m => m.StartsWith("RELOADING=1\nMONOTONIC_USEC=", StringComparison.Ordinal), "RELOADING=1");
        clusterd.Signal(Native.SIGTERM);
        await clusterd.WaitForExitAsync();

        Assert.True(reload.Ok, reload.Error?.Message);
        var messages = manager.Messages.ToList();
        // Datagrams keep their order: READY=1 only after the status says every worker is ready.
        Assert.InRange(messages.IndexOf("STATUS=web 2/2 ready"), 0, messages.IndexOf("READY=1") - 1);
        Assert.Contains("STATUS=web 0/2 ready", messages);
        Assert.Contains(messages, m => m.StartsWith($"FDSTORE=1\nFDNAME=clusterd.web.127.0.0.1_{port}.0", StringComparison.Ordinal));
        var reloading = messages.FindIndex(m => m.StartsWith("RELOADING=1", StringComparison.Ordinal));
        Assert.Contains("READY=1", messages.Skip(reloading));
        Assert.StartsWith("STOPPING=1", messages.Last(m => !m.StartsWith("WATCHDOG", StringComparison.Ordinal) && !m.StartsWith("STATUS", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("web")]                                   // a .socket unit's FileDescriptorName=
    [InlineData("clusterd.web.127.0.0.1_{port}.s")]       // clusterd's own fd-store name, as systemd hands it back
    public async Task PassedSocket_IsAdoptedInsteadOfBound_AndServesTheConnectionThatActivatedIt(string fdName)
    {
        if (!File.Exists("/usr/bin/systemd-socket-activate"))
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "systemd-socket-activate is missing; .ci/run installs systemd");
            return;
        }
        var port = Ports.Free();
        var name = fdName.Replace("{port}", port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        // systemd-socket-activate binds the port (without SO_REUSEPORT) and execs clusterd on the first connection; if
        // clusterd tried to bind the port itself, it would fail with "address in use".
        string[] launcher = ["systemd-socket-activate", "-l", $"127.0.0.1:{port}", $"--fdname={name}", "-E", "PATH", "-E", "HOME", "-E", "DOTNET_ROOT"];
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 2, [$"127.0.0.1:{port}"], "shared"), output,
            environment: null, launcher);

        await Wait.UntilAsync(() => clusterd.Stderr.Contains($"Listening on 127.0.0.1:{port}", StringComparison.Ordinal), "systemd-socket-activate to listen");
        var first = await Http.GetJsonAsync(port, "/env"); // this connection is what starts clusterd

        Assert.Equal("1", first.GetProperty("LISTEN_FDS").GetString());
        Assert.Equal(first.GetProperty("pid").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture), first.GetProperty("LISTEN_PID").GetString());
        await clusterd.WaitForEventAsync("listening", "web", count: 2);
        Assert.DoesNotContain(clusterd.Entries, e => e.EventId == 23); // nothing passed went unclaimed
        Assert.Equal(200, (await Http.GetAsync(port)).Status);
    }
}
