using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Clusterd.SystemTests;

/// <summary>
/// A real orchestrator: a single-node Docker Swarm on loopback runs the clusterd image as a service on the host
/// network, and replaces it with `docker service update --update-order start-first` under a load of one new
/// connection per request. The new clusterd binds the same port with SO_REUSEPORT while the old one still serves, and
/// the old one drains on SIGTERM: no request may fail (docs/containers.md). The swarm is left afterwards, always.
/// </summary>
[Collection(ClusterdImage.Collection)]
public sealed class SwarmTests(ClusterdImage image) : IDisposable
{
    private const string Service = "clusterd-swarm-test";
    private const string MigrateRequests = "/proc/sys/net/ipv4/tcp_migrate_req";
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Each task needs its own metrics port: both clusterds run on the host network during the update, and the
    /// HTTP listener of /metrics and the probes cannot share a port the way the workers' SO_REUSEPORT sockets do.
    /// </summary>
    private static string Config(int port, int metricsPort) => $$"""
        [control]
        socket = "/run/clusterd/clusterd.sock"

        [metrics]
        listen = "127.0.0.1:{{metricsPort}}"

        [groups.hello]
        command = ["/usr/lib/clusterd/hello/hello"]
        workers = 2
        listen = ["127.0.0.1:{{port}}"]
        sharing = "reuseport"
        ready = "notify"
        user = "nobody"
        group = "nogroup"
        stop_timeout = "10s"
        """;

    /// <summary>Writes <paramref name="config"/> and returns a --mount spec that puts it at /etc/clusterd/NAME.</summary>
    private string ConfigMount(string name, string config)
    {
        var path = _dir.Sub(name);
        File.WriteAllText(path, config);
        return $"type=bind,src={path},dst=/etc/clusterd/{name},readonly";
    }

    private static string[] Args(string name) => ["--config", $"/etc/clusterd/{name}", "--log-format", "json"];

    private static string HealthCommand(int metricsPort) => $"curl -fsS http://127.0.0.1:{metricsPort}/readyz";

    /// <summary>The service's tasks and each of its containers' health and last log lines.</summary>
    private static async Task<string> DiagnosticsAsync()
    {
        var text = (await ClusterdImage.DockerAsync("service", "ps", "--no-trunc", Service)).Stdout;
        var containers = (await ClusterdImage.DockerAsync("ps", "-aq", "--filter", $"label=com.docker.swarm.service.name={Service}")).Stdout;
        foreach (var id in containers.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            text += $"--- {id}: {(await ClusterdImage.DockerAsync("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{json .State.Health}}", id)).Stdout}";
            text += string.Join('\n', (await ClusterdImage.LogLinesAsync(id)).TakeLast(15)) + "\n";
        }
        return text;
    }

    [Requires(RequiresAttribute.Docker, RequiresAttribute.DebFile)]
    public async Task StartFirstUpdate_UnderNewConnectionLoad_FailsNoRequest()
    {
        var tag = await image.TagAsync();
        var next = tag + "-next";
        await ClusterdImage.MustAsync("tag", tag, next);
        var (port, metricsA, metricsB) = (FreePort(), FreePort(), FreePort());

        Assert.Equal("inactive", await ClusterdImage.MustAsync("info", "--format", "{{.Swarm.LocalNodeState}}"));
        // When the old workers close their listeners, connections still in those listeners' accept queues are reset
        // unless the kernel moves them to another socket of the SO_REUSEPORT group (Linux >= 5.14). It is the host's
        // setting (host network), which docs/containers.md tells operators to make; set here, and put back after.
        var migrateBefore = await File.ReadAllTextAsync(MigrateRequests);
        await File.WriteAllTextAsync(MigrateRequests, "1");
        await ClusterdImage.MustAsync("swarm", "init", "--advertise-addr", "127.0.0.1");
        try
        {
            // --no-resolve-image: the images exist only here, there is no registry to ask for a digest.
            await ClusterdImage.MustAsync([
                "service", "create", "--detach=false", "--quiet", "--name", Service, "--network", "host", "--no-resolve-image",
                "--mount", ConfigMount("a.toml", Config(port, metricsA)), "--health-cmd", HealthCommand(metricsA), "--health-interval", "1s", "--health-retries", "1",
                "--health-start-period", "60s", "--stop-grace-period", "40s", "--update-order", "start-first", tag, .. Args("a.toml")]);
            using (var http = new HttpClient())
            {
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{metricsA}/readyz")).StatusCode);
            }

            await using var load = new Load(port);
            await load.UntilSucceededAsync(50);
            var update = await ClusterdImage.DockerAsync([
                "service", "update", "--detach=false", "--quiet", "--no-resolve-image", "--image", next,
                // Another target: a --mount-rm and a --mount-add of one target in one update remove both.
                "--mount-add", ConfigMount("b.toml", Config(port, metricsB)), "--args", string.Join(' ', Args("b.toml")),
                "--health-cmd", HealthCommand(metricsB), Service]);
            if (update.ExitCode != 0)
            {
                Assert.Fail($"docker service update: {update}\n{await DiagnosticsAsync()}");
            }
            // The old task is gone once the update has converged; the load goes on against the new one alone.
            await ClusterdImage.UntilAsync(async () => (await ClusterdImage.MustAsync("ps", "-q", "--filter", $"label=com.docker.swarm.service.name={Service}"))
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Length == 1, "the old task to be removed");
            await load.UntilSucceededAsync(load.Succeeded + 50);
            var report = await load.StopAsync();

            Assert.True(report.Failed == 0, report.ToString());
            Assert.Equal(next, await ClusterdImage.MustAsync("service", "inspect", "-f", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", Service));
        }
        finally
        {
            await ClusterdImage.DockerAsync("service", "rm", Service);
            await ClusterdImage.DockerAsync("swarm", "leave", "--force");
            await ClusterdImage.DockerAsync("rmi", next);
            await File.WriteAllTextAsync(MigrateRequests, migrateBefore);
        }
    }

    /// <summary>Sequential GETs, each on a new connection (Connection: close), counting what succeeded and what failed.</summary>
    private sealed class Load : IAsyncDisposable
    {
        private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero })
        {
            Timeout = TimeSpan.FromSeconds(5),
        };
        private readonly CancellationTokenSource _stop = new();
        private readonly List<string> _failures = [];
        private readonly Task _loop;
        private int _succeeded;

        public Load(int port) => _loop = Task.Run(() => RunAsync(new Uri($"http://127.0.0.1:{port}/")));

        public int Succeeded => Volatile.Read(ref _succeeded);

        private async Task RunAsync(Uri uri)
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                    request.Headers.ConnectionClose = true;
                    using var response = await _http.SendAsync(request);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        Interlocked.Increment(ref _succeeded);
                    }
                    else
                    {
                        Fail($"{DateTime.UtcNow:HH:mm:ss.fff} HTTP {(int)response.StatusCode}");
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    Fail($"{DateTime.UtcNow:HH:mm:ss.fff} {e.GetType().Name}: {e.Message} {e.InnerException?.Message}");
                }
            }
        }

        private void Fail(string what)
        {
            lock (_failures)
            {
                _failures.Add(what);
            }
        }

        public Task UntilSucceededAsync(int count) =>
            ClusterdImage.UntilAsync(() => Task.FromResult(Succeeded >= count), $"{count} successful requests", TimeSpan.FromSeconds(120));

        public async Task<(int Succeeded, int Failed, string Failures)> StopAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            lock (_failures)
            {
                return (Succeeded, _failures.Count, string.Join('\n', _failures));
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop; // it catches what a request throws, so this only waits for the request in flight
            _http.Dispose();
            _stop.Dispose();
        }
    }
}
