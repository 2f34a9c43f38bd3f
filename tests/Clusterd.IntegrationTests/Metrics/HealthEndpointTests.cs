using System.Net;
using Clusterd.IntegrationTests.Infrastructure;
using Clusterd.Protocol.Messages;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Metrics;

/// <summary>/livez, /readyz and /startupz of a real clusterd, over HTTP on 127.0.0.1, as an orchestrator probes them.</summary>
public class HealthEndpointTests(ITestOutputHelper output)
{
    private static string Config(string listen, params string[] groups) =>
        $"[metrics]\nlisten = \"{listen}\"\n\n" + string.Concat(groups);

    /// <summary>A probe as the kubelet sends it: to the target as written, so the Host header is the listen address.</summary>
    private static async Task<(HttpStatusCode Status, string Body)> ProbeAsync(int port, string path, HttpMethod? method = null)
    {
        using var client = new HttpClient { Timeout = Http.DefaultTimeout };
        using var response = await client.SendAsync(new HttpRequestMessage(method ?? HttpMethod.Get, new Uri($"http://127.0.0.1:{port}{path}")));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Probes_ReadyCluster_AnswerOkWithALinePerGroup()
    {
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(Config($"127.0.0.1:{port}", Toml.Group("web", Toml.Worker(), 2, [$"127.0.0.1:{Ports.Free()}"])), output);
        await clusterd.WaitForEventAsync("listening", "web", count: 2);

        Assert.Equal((HttpStatusCode.OK, "ok: the supervisor loop answers\n"), await ProbeAsync(port, "/livez"));
        await Wait.UntilAsync(async () => (await ProbeAsync(port, "/startupz")).Status == HttpStatusCode.OK, "/startupz to pass");
        Assert.Equal((HttpStatusCode.OK, "ready\nweb: ready: 2 of 2 workers ready, 2 needed\n"), await ProbeAsync(port, "/readyz"));
        Assert.Equal(HttpStatusCode.OK, (await ProbeAsync(port, "/readyz?verbose")).Status); // Kubernetes-style query strings are fine
        var head = await ProbeAsync(port, "/readyz", HttpMethod.Head);
        Assert.Equal((HttpStatusCode.OK, ""), head);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await ProbeAsync(port, "/readyz", HttpMethod.Post)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ProbeAsync(port, "/livezz")).Status);
        Assert.Equal(HttpStatusCode.OK, (await ProbeAsync(port, "/metrics")).Status); // the same port
    }

    [Fact]
    public async Task Readyz_MinReadyZero_DoesNotWaitForTheGroup_ButStartupzDoes()
    {
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(Config($"127.0.0.1:{port}",
            Toml.Group("web", Toml.Worker(), 1, [$"127.0.0.1:{Ports.Free()}"]),
            Toml.Group("slow", Toml.Worker("--no-ready"), 1, [], "reuseport", "notify", "min_ready = 0")), output);
        await clusterd.WaitForEventAsync("listening", "web");
        await clusterd.WaitForEventAsync("online", "slow");

        var ready = await ProbeAsync(port, "/readyz");

        Assert.Equal((HttpStatusCode.OK, "ready\nweb: ready: 1 of 1 workers ready, 1 needed\nslow: ready: 0 of 1 workers ready, 0 needed\n"), ready);
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "starting: waiting for the groups' first workers to be ready\n"), await ProbeAsync(port, "/startupz"));
    }

    [Fact]
    public async Task Readyz_GroupStoppedByClusterctl_Is503UntilStartedAgain()
    {
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(Config($"127.0.0.1:{port}", Toml.Group("web", Toml.Worker(), 1, [$"127.0.0.1:{Ports.Free()}"])), output);
        await clusterd.WaitForEventAsync("listening", "web");
        Assert.Equal(HttpStatusCode.OK, (await ProbeAsync(port, "/readyz")).Status);

        Assert.True((await clusterd.RequestAsync(new Request { Command = Commands.Stop, Group = "web" })).Ok);
        var stopped = await ProbeAsync(port, "/readyz");
        Assert.True((await clusterd.RequestAsync(new Request { Command = Commands.Start, Group = "web" })).Ok);
        var started = await ProbeAsync(port, "/readyz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, stopped.Status);
        Assert.Equal("not ready\nweb: not ready: stopped by `clusterctl stop` (`clusterctl start web` starts it)\n", stopped.Body);
        Assert.Equal(HttpStatusCode.OK, started.Status);
    }

    [Fact]
    public async Task Readyz_WhileStoppingOnSigterm_Is503()
    {
        var port = Ports.Free();
        // The worker ignores SIGTERM: clusterd stays in its stop for stop_timeout, with the endpoints still up.
        await using var clusterd = ClusterdProcess.Start(Config($"127.0.0.1:{port}",
            Toml.Group("web", Toml.Worker("--ignore-term"), 1, [$"127.0.0.1:{Ports.Free()}"], "reuseport", "notify", "stop_timeout = \"60s\"")), output);
        await clusterd.WaitForEventAsync("listening", "web");

        clusterd.Signal(Native.SIGTERM);
        await clusterd.WaitForAsync(e => e.EventId == 2, what: "stopping");

        Assert.Equal((HttpStatusCode.ServiceUnavailable, "not ready: clusterd is stopping\n"), await ProbeAsync(port, "/readyz"));
        Assert.Equal(HttpStatusCode.OK, (await ProbeAsync(port, "/livez")).Status); // alive all the same: it is stopping its workers
    }

    [Fact]
    public async Task Listen_EveryInterface_AnswersWhateverTheHostHeader()
    {
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(Config($"0.0.0.0:{port}", Toml.Group("web", Toml.Worker(), 1, [$"127.0.0.1:{Ports.Free()}"])), output);
        await clusterd.WaitForEventAsync("listening", "web");

        // Http sends "Host: localhost", which a listener on one address would answer with 404.
        var ready = await Http.GetAsync(port, "/readyz");
        var metrics = await Http.GetAsync(port, "/metrics");

        Assert.Equal(200, ready.Status);
        Assert.Equal(200, metrics.Status);
        Assert.Contains("clusterd_group_ready_workers", metrics.Body, StringComparison.Ordinal);
    }
}
