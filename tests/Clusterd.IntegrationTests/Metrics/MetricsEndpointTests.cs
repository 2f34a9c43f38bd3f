using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Clusterd.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Metrics;

public partial class MetricsEndpointTests(ITestOutputHelper output)
{
    /// <summary>Every family docs/metrics.md promises, as Prometheus sees it.</summary>
    public static readonly string[] Families =
    [
        "clusterd_worker_events_total", "clusterd_worker_exits_total", "clusterd_workers", "clusterd_group_desired_workers",
        "clusterd_group_ready_workers", "clusterd_worker_restarts_total", "clusterd_worker_startup_seconds",
        "clusterd_worker_cpu_seconds_total", "clusterd_worker_resident_memory_bytes", "clusterd_listener_queue_length",
        "clusterd_listener_queue_limit", "clusterd_config_reloads_total", "clusterd_build_info",
        "clusterd_log_lines_dropped_total",
    ];

    internal static string Config(int metricsPort, int webPort, int workers = 2) =>
        $"[metrics]\nlisten = \"127.0.0.1:{metricsPort}\"\n\n" + Toml.Group("web", Toml.Worker(), workers, [$"127.0.0.1:{webPort}"]);

    /// <summary>
    /// As Prometheus scrapes: Host is the target's "127.0.0.1:PORT" (the exporter's HttpListener matches its prefix
    /// on the Host header, so the harness's "Host: localhost" would get a 404).
    /// </summary>
    internal static async Task<string> ScrapeAsync(int port)
    {
        using var client = new HttpClient { Timeout = Http.DefaultTimeout };
        using var response = await client.GetAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The value of the one sample named exactly <paramref name="series"/> (name and labels, without otel_scope_*).</summary>
    internal static double Sample(string scrape, string name, string labels)
    {
        foreach (var line in scrape.Split('\n'))
        {
            var m = SampleLine().Match(line);
            if (m.Success && m.Groups["name"].Value == name)
            {
                var own = string.Join(',', m.Groups["labels"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries)
                    .Where(l => !l.StartsWith("otel_scope_", StringComparison.Ordinal)));
                if (own == labels)
                {
                    return double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
                }
            }
        }
        throw new Xunit.Sdk.XunitException($"no sample {name}{{{labels}}} in:\n{scrape}");
    }

    [GeneratedRegex(@"^(?<name>[a-z_]+)(\{(?<labels>[^}]*)\})? (?<value>\S+)$")]
    private static partial Regex SampleLine();

    [Fact]
    public async Task Scrape_RunningCluster_ExposesEveryFamily_CountingStartupEvents()
    {
        var (metricsPort, webPort) = (Ports.Free(), Ports.Free());
        await using var clusterd = ClusterdProcess.Start(Config(metricsPort, webPort), output);
        await clusterd.WaitForEventAsync("listening", "web", count: 2);

        var scrape = await ScrapeAsync(metricsPort);

        foreach (var family in Families)
        {
            Assert.Contains($"# TYPE {family} ", scrape, StringComparison.Ordinal);
        }
        // The forks happened before the first scrape, some before the host had finished starting: all counted.
        Assert.Equal(2, Sample(scrape, "clusterd_worker_events_total", "event=\"fork\",group=\"web\""));
        Assert.Equal(2, Sample(scrape, "clusterd_worker_startup_seconds_count", "group=\"web\""));
        Assert.Equal(0, Sample(scrape, "clusterd_worker_exits_total", "group=\"web\",reason=\"crashed\""));
        Assert.Equal(2, Sample(scrape, "clusterd_group_desired_workers", "group=\"web\""));
        Assert.Equal(0, Sample(scrape, "clusterd_workers", "group=\"web\",state=\"failed\""));
        Assert.True(Sample(scrape, "clusterd_worker_resident_memory_bytes", "group=\"web\",slot=\"1\"") > 1_000_000);
        Assert.Equal(0, Sample(scrape, "clusterd_config_reloads_total", "result=\"failure\""));
        Assert.DoesNotContain("pid=", scrape, StringComparison.Ordinal); // labels stay bounded
        // Two reuseport sockets with a backlog of 4096 each, capped by net.core.somaxconn.
        var somaxconn = uint.Parse(File.ReadAllText("/proc/sys/net/core/somaxconn").Trim(), CultureInfo.InvariantCulture);
        Assert.Equal(2 * Math.Min(4096u, somaxconn), Sample(scrape, "clusterd_listener_queue_limit", $"group=\"web\",listen=\"127.0.0.1:{webPort}\""));
        Assert.Equal(0, Sample(scrape, "clusterd_listener_queue_length", $"group=\"web\",listen=\"127.0.0.1:{webPort}\""));
    }

    [Fact]
    public async Task Scrape_PassesPromtoolCheckMetrics()
    {
        var promtool = ExternalTool.Find("promtool", output);
        if (promtool is null)
        {
            return;
        }
        var metricsPort = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(Config(metricsPort, Ports.Free()), output);
        await clusterd.WaitForEventAsync("listening", "web", count: 2);
        var scrape = await ScrapeAsync(metricsPort);

        var (code, stdout, stderr) = await ExternalTool.RunAsync(promtool, scrape, null, "check", "metrics");

        Assert.True(code == 0 && stdout.Length == 0 && stderr.Length == 0, $"promtool check metrics exited {code}:\n{stdout}{stderr}");
    }

    [Fact]
    public async Task AlertRules_PassPromtoolCheckRules()
    {
        var promtool = ExternalTool.Find("promtool", output);
        if (promtool is null)
        {
            return;
        }

        var (code, stdout, stderr) = await ExternalTool.RunAsync(promtool, null, null, "check", "rules", "packaging/prometheus/alerts.yml");

        Assert.True(code == 0, $"promtool check rules exited {code}:\n{stdout}{stderr}");
        var (configCode, configOut, configErr) = await ExternalTool.RunAsync(promtool, null, null, "check", "config", "packaging/prometheus/prometheus.yml");
        Assert.True(configCode == 0, $"promtool check config exited {configCode}:\n{configOut}{configErr}");
    }

    [Fact]
    public async Task MetricsPortTaken_StartFails_NamingThePort()
    {
        using var squatter = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        squatter.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        squatter.Listen();
        var taken = ((IPEndPoint)squatter.LocalEndPoint!).Port;
        var dir = Directory.CreateTempSubdirectory("clusterd-test-");
        try
        {
            var config = Path.Combine(dir.FullName, "clusterd.toml");
            var webPort = Ports.Free();
            await File.WriteAllTextAsync(config, Config(taken, webPort));

            var (code, _, stderr) = await ClusterdProcess.RunToExitAsync("--config", config);

            Assert.Equal(1, code);
            Assert.Contains($"cannot serve metrics on 127.0.0.1:{taken}", stderr, StringComparison.Ordinal);
            Assert.Contains("nothing was started", stderr, StringComparison.Ordinal);
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            probe.Bind(new IPEndPoint(IPAddress.Loopback, webPort)); // the group's port was released again
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
