using System.Diagnostics;
using System.Text.Json;
using Clusterd.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Metrics;

/// <summary>
/// The shipped dashboard against a real Prometheus scraping a real clusterd that has seen a crash and a restart:
/// every panel query must return data, so a renamed metric or a typo in PromQL cannot ship an empty panel.
/// </summary>
public class DashboardTests(ITestOutputHelper output)
{
    private const string Group = "web";

    private static string DashboardPath => Path.Combine(Repo.Root, "packaging", "grafana", "clusterd.json");

    /// <summary>Every target expression of every panel, rows' nested panels included.</summary>
    internal static List<(string Panel, string Expr)> PanelQueries()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(DashboardPath));
        var result = new List<(string, string)>();
        void Walk(JsonElement panels)
        {
            foreach (var panel in panels.EnumerateArray())
            {
                if (panel.TryGetProperty("panels", out var nested))
                {
                    Walk(nested);
                }
                if (panel.TryGetProperty("targets", out var targets))
                {
                    foreach (var target in targets.EnumerateArray())
                    {
                        result.Add((panel.GetProperty("title").GetString()!, target.GetProperty("expr").GetString()!));
                    }
                }
            }
        }
        Walk(doc.RootElement.GetProperty("panels"));
        return result;
    }

    [Fact]
    public void Dashboard_HasDatasourceInstanceAndGroupVariables_AndAQueryPerPanel()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(DashboardPath));
        var variables = doc.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray()
            .ToDictionary(v => v.GetProperty("name").GetString()!, v => v);

        Assert.Equal("datasource", variables["datasource"].GetProperty("type").GetString());
        Assert.Equal("prometheus", variables["datasource"].GetProperty("query").GetString());
        Assert.Equal("label_values(up{job=\"clusterd\"}, instance)",
            variables["instance"].GetProperty("query").GetProperty("query").GetString());
        Assert.Equal("label_values(clusterd_group_desired_workers{instance=~\"$instance\"}, group)",
            variables["group"].GetProperty("query").GetProperty("query").GetString());
        var queries = PanelQueries();
        // One dashboard watches every host: no query may ignore the instance picked.
        Assert.All(queries, q => Assert.Contains("instance=~\"$instance\"", q.Expr, StringComparison.Ordinal));
        Assert.True(queries.Count >= 10, $"only {queries.Count} queries");
        foreach (var family in MetricsEndpointTests.Families.Where(f => f != "clusterd_config_reloads_total" && f != "clusterd_build_info"))
        {
            Assert.Contains(queries, q => q.Expr.Contains(family, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task EveryPanelQuery_ReturnsData_FromARealPrometheus_AfterACrashAndARestart()
    {
        var prometheus = ExternalTool.Find("prometheus", output);
        if (prometheus is null)
        {
            return;
        }
        var (metricsPort, webPort, prometheusPort) = (Ports.Free(), Ports.Free(), Ports.Free());
        await using var clusterd = ClusterdProcess.Start(MetricsEndpointTests.Config(metricsPort, webPort), output);
        var ready = await clusterd.WaitForEventAsync("listening", Group, count: 2);

        var dir = Directory.CreateTempSubdirectory("clusterd-prometheus-");
        var config = Path.Combine(dir.FullName, "prometheus.yml");
        await File.WriteAllTextAsync(config,
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n" +
            $"scrape_configs:\n  - job_name: clusterd\n    static_configs:\n      - targets: [\"127.0.0.1:{metricsPort}\"]\n");
        var psi = new ProcessStartInfo(prometheus)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = dir.FullName,
        };
        foreach (var a in new[] { $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(dir.FullName, "data")}",
                     $"--web.listen-address=127.0.0.1:{prometheusPort}" })
        {
            psi.ArgumentList.Add(a);
        }
        using var server = Process.Start(psi)!;
        var log = new List<string>();
        server.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (log)
                {
                    log.Add(e.Data);
                }
            }
        };
        server.BeginErrorReadLine();
        server.BeginOutputReadLine();
        try
        {
            // Let Prometheus see the healthy state first, or the counters would already hold the crash at its first
            // sample and rate()/increase() over it would be 0.
            await WaitForQueryAsync(prometheusPort, $"clusterd_worker_events_total{{group=\"{Group}\",event=\"listening\"}} == 2", log);

            // A crash (kill -9 of a worker) and the restart that follows it.
            Assert.Equal(0, Native.Kill(ready[0].Pid, Native.SIGKILL));
            await clusterd.WaitForEventAsync("restart", Group);
            await clusterd.WaitForEventAsync("listening", Group, count: 3);

            var queries = PanelQueries();
            var pending = queries.Select(q => (q.Panel, Expr: q.Expr
                    .Replace("$group", Group, StringComparison.Ordinal)
                    .Replace("$instance", ".+", StringComparison.Ordinal)
                    .Replace("$__rate_interval", "1m", StringComparison.Ordinal)
                    .Replace("$__range", "1h", StringComparison.Ordinal)))
                .ToList();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
            string lastError = "";
            while (pending.Count > 0)
            {
                foreach (var query in pending.ToArray())
                {
                    var (ok, detail) = await QueryHasDataAsync(prometheusPort, query.Expr);
                    if (ok)
                    {
                        output.WriteLine($"ok   {query.Panel}: {query.Expr} -> {detail}");
                        pending.Remove(query);
                    }
                    else
                    {
                        lastError = detail;
                    }
                }
                if (pending.Count > 0 && DateTime.UtcNow > deadline)
                {
                    string prometheusLog;
                    lock (log)
                    {
                        prometheusLog = string.Join('\n', log.TakeLast(20));
                    }
                    Assert.Fail($"no data within 90s for:\n{string.Join('\n', pending.Select(p => $"{p.Panel}: {p.Expr}"))}\nlast answer: {lastError}\nprometheus:\n{prometheusLog}");
                }
                if (pending.Count > 0)
                {
                    await timer.WaitForNextTickAsync();
                }
            }

            // The crash is visible as such, not only as "some data".
            var (_, crashed) = await QueryHasDataAsync(prometheusPort, $"clusterd_worker_exits_total{{group=\"{Group}\",reason=\"crashed\"}}");
            Assert.Contains("\"1\"", crashed, StringComparison.Ordinal);
        }
        finally
        {
            server.Kill();
            await server.WaitForExitAsync();
            dir.Delete(recursive: true);
        }
    }

    private static async Task WaitForQueryAsync(int port, string expr, List<string> log)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        while (!(await QueryHasDataAsync(port, expr)).Ok)
        {
            if (DateTime.UtcNow > deadline)
            {
                lock (log)
                {
                    Assert.Fail($"prometheus never answered {expr} within 60s:\n{string.Join('\n', log.TakeLast(20))}");
                }
            }
            await timer.WaitForNextTickAsync();
        }
    }

    /// <summary>Instant query; "data" means at least one series (a NaN quantile from no recent samples counts as none).</summary>
    private static async Task<(bool Ok, string Detail)> QueryHasDataAsync(int port, string expr)
    {
        try
        {
            var (status, body, _) = await Http.GetAsync(port, "/api/v1/query?query=" + Uri.EscapeDataString(expr));
            if (status != 200)
            {
                return (false, $"HTTP {status}: {body}");
            }
            using var doc = JsonDocument.Parse(body);
            var result = doc.RootElement.GetProperty("data").GetProperty("result");
            var values = result.EnumerateArray().Select(r => r.GetProperty("value")[1].GetString()).ToArray();
            return (values.Any(v => v != "NaN"), result.GetRawText());
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or OperationCanceledException)
        {
            return (false, "prometheus not answering yet: " + e.Message);
        }
    }

    [Fact]
    public async Task Dashboard_TypeChecksAgainstGrafanaSchema()
    {
        var npm = ExternalTool.Find("npm", output);
        var node = ExternalTool.Find("node", output);
        if (npm is null || node is null)
        {
            return;
        }
        var check = Path.Combine(Repo.Root, "packaging", "grafana", "check");

        var install = await ExternalTool.RunAsync(npm, null, check, "ci", "--no-audit", "--no-fund");
        Assert.True(install.ExitCode == 0, $"npm ci exited {install.ExitCode}:\n{install.Stdout}{install.Stderr}");
        var (code, stdout, stderr) = await ExternalTool.RunAsync(node, null, check, "check.mjs");

        Assert.True(code == 0, $"the dashboard does not type-check ({code}):\n{stdout}{stderr}");
    }
}
