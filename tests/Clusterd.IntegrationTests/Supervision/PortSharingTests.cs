using System.Net;
using System.Net.Sockets;
using Clusterd.IntegrationTests.Infrastructure;
using Clusterd.Protocol.Messages;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Supervision;

public class PortSharingTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("reuseport")]
    [InlineData("shared")]
    public async Task Requests_ToOnePort_ReachEveryWorker(string sharing)
    {
        const int workers = 3;
        var port = Ports.Free();
        // --serial: a worker serves one connection at a time, so concurrent clients spread over the workers even on one shared queue.
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker("--serial"), workers, [$"127.0.0.1:{port}"], sharing), output);
        var ready = await clusterd.WaitForEventAsync("listening", "web", count: workers);

        var pids = new HashSet<int>();
        for (var round = 0; round < 10 && pids.Count < workers; round++)
        {
            var responses = await Task.WhenAll(Enumerable.Range(0, 3 * workers).Select(_ => Http.GetJsonAsync(port, "/sleep?ms=20")));
            pids.UnionWith(responses.Select(r => r.GetProperty("pid").GetInt32()));
        }

        Assert.Equal(ready.Select(e => e.Pid).ToHashSet(), pids);
    }

    [Fact]
    public async Task SharedMode_EveryWorker_HoldsTheSameSocket()
    {
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", ["/bin/sh", "-c", "readlink /proc/$$/fd/3; exec sleep 1000"], 2, [$"127.0.0.1:{port}"], "shared", "started",
                "min_uptime = \"0s\""), output);

        var lines = await clusterd.WaitForAsync(e => e.EventId == LogEntry.WorkerOutput, count: 2);

        Assert.All(lines, l => Assert.StartsWith("socket:[", l["Line"], StringComparison.Ordinal));
        Assert.Single(lines.Select(l => l["Line"]).Distinct());
    }

    [Fact]
    public async Task ReusePortMode_EachSlot_HasItsOwnSocket()
    {
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", ["/bin/sh", "-c", "readlink /proc/$$/fd/3; exec sleep 1000"], 2, [$"127.0.0.1:{port}"], "reuseport", "started",
                "min_uptime = \"0s\""), output);

        var lines = await clusterd.WaitForAsync(e => e.EventId == LogEntry.WorkerOutput, count: 2);

        Assert.Equal(2, lines.Select(l => l["Line"]).Distinct().Count());
    }

    [Fact]
    public async Task ScaleDown_ConnectionsQueuedOnTheRemovedSlot_AreServedByTheSlotLeft()
    {
        if (!Native.SteeringTestable())
        {
            return;
        }
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker(), 2, [$"127.0.0.1:{port}"], "reuseport", "notify", "stop_timeout = \"1s\""), output);
        var ready = await clusterd.WaitForEventAsync("listening", "web", count: 2);
        var frozen = ready.Single(e => e.Slot == 1).Pid;
        Native.Kill(frozen, Native.SIGSTOP); // slot 1 accepts nothing: what the kernel hashes to its socket stays queued there
        await Wait.UntilAsync(() => Native.State(frozen) == 'T', "slot 1's worker stopped");

        var clients = await SendRequestsAsync(port);
        var scale = await clusterd.RequestAsync(new Request { Command = Commands.Scale, Group = "web", Count = 1 });
        var answers = await Task.WhenAll(clients.Select(ReadToEndAsync));

        Assert.True(scale.Ok, scale.Error?.Message);
        Assert.All(answers, a => Assert.StartsWith("HTTP/1.1 200", a, StringComparison.Ordinal));
        Assert.False(Native.IsAlive(frozen));
        var survivor = ready.Single(e => e.Slot == 0).Pid;
        Assert.All(answers, a => Assert.Contains($"\"pid\":{survivor}", a, StringComparison.Ordinal));
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }

    /// <summary>
    /// 20 requests on connections of their own, unanswered yet: with two slots, about half are hashed to each (all of
    /// them missing one has odds of 2^-20).
    /// </summary>
    private static async Task<List<Socket>> SendRequestsAsync(int port)
    {
        var clients = new List<Socket>();
        for (var i = 0; i < 20; i++)
        {
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            clients.Add(client);
            await client.ConnectAsync(IPAddress.Loopback, port);
            await client.SendAsync("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"u8.ToArray());
        }
        return clients;
    }

    [Fact]
    public async Task KilledWorker_OtherSlotServing_ConnectionsQueuedForItAndMadeAfterAreServedByTheOther()
    {
        if (!Native.SteeringTestable())
        {
            return;
        }
        var port = Ports.Free();
        var notReady = Path.Combine(Path.GetTempPath(), $"clusterd-not-ready-{Guid.NewGuid():N}");
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker("--no-ready-if-file", notReady), 2, [$"127.0.0.1:{port}"], "reuseport", "notify"), output);
        var ready = await clusterd.WaitForEventAsync("listening", "web", count: 2);
        var (survivor, doomed) = (ready.Single(e => e.Slot == 0).Pid, ready.Single(e => e.Slot == 1).Pid);
        await File.WriteAllTextAsync(notReady, ""); // the replacement serves HTTP but never says READY=1
        try
        {
            Native.Kill(doomed, Native.SIGSTOP); // slot 1 accepts nothing: what the kernel hashes to it stays queued there
            await Wait.UntilAsync(() => Native.State(doomed) == 'T', "slot 1's worker stopped");
            var queued = await SendRequestsAsync(port);

            Native.Kill(doomed, Native.SIGKILL);
            await clusterd.WaitForEventAsync("fork", "web", count: 3); // the replacement runs, and will never be ready
            var after = await SendRequestsAsync(port);
            var answers = await Task.WhenAll(queued.Concat(after).Select(ReadToEndAsync));

            Assert.All(answers, a => Assert.StartsWith("HTTP/1.1 200", a, StringComparison.Ordinal));
            Assert.All(answers, a => Assert.Contains($"\"pid\":{survivor}", a, StringComparison.Ordinal));
            Assert.Contains(clusterd.Entries, e => e.Message.StartsWith("web/1 died: new connections go to the other workers", StringComparison.Ordinal));
            Assert.Single(clusterd.Events("web"), e => e.Event == "listening" && e.Slot == 1);
            foreach (var client in queued.Concat(after))
            {
                client.Dispose();
            }
        }
        finally
        {
            File.Delete(notReady);
        }
    }

    [Fact]
    public async Task KilledWorker_OtherSlotServing_ReplacementGetsConnectionsOnceReady()
    {
        if (!Native.SteeringTestable())
        {
            return;
        }
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker(), 2, [$"127.0.0.1:{port}"], "reuseport", "notify"), output);
        var doomed = (await clusterd.WaitForEventAsync("listening", "web", count: 2)).Single(e => e.Slot == 1).Pid;

        Native.Kill(doomed, Native.SIGKILL);
        var replacement = (await clusterd.WaitForEventAsync("listening", "web", count: 3))[2];
        var clients = await SendRequestsAsync(port);
        var answers = await Task.WhenAll(clients.Select(ReadToEndAsync));

        Assert.Equal(1, replacement.Slot);
        Assert.Contains(clusterd.Entries, e => e.Message.StartsWith("web/1 died: new connections go to the other workers", StringComparison.Ordinal));
        Assert.All(answers, a => Assert.StartsWith("HTTP/1.1 200", a, StringComparison.Ordinal));
        Assert.Contains(answers, a => a.Contains($"\"pid\":{replacement.Pid}", StringComparison.Ordinal)); // routed again
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }

    /// <summary>Everything the server sends until it closes, or "" if it resets the connection.</summary>
    private static async Task<string> ReadToEndAsync(Socket client)
    {
        using var cts = new CancellationTokenSource(Http.DefaultTimeout);
        var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = await client.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
            {
                received.Write(buffer, 0, n);
            }
        }
        catch (SocketException)
        {
            return "";
        }
        return System.Text.Encoding.ASCII.GetString(received.ToArray());
    }

    [Fact]
    public async Task KilledWorker_ConnectionQueuedMeanwhile_IsServedByReplacementInSameSlot()
    {
        var port = Ports.Free();
        // The first death is replaced at once; the second waits out a long backoff, so the connection below is queued
        // while the slot has no process at all.
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker(), 1, [$"127.0.0.1:{port}"], "reuseport", "notify",
                "backoff = { initial = \"1500ms\", max = \"2s\", factor = 2.0 }"), output);
        var first = (await clusterd.WaitForEventAsync("listening", "web"))[0];
        Native.Kill(first.Pid, Native.SIGKILL);
        var second = (await clusterd.WaitForEventAsync("listening", "web", count: 2))[1];

        Native.Kill(second.Pid, Native.SIGKILL);
        await clusterd.WaitForEventAsync("backoff", "web", count: 2);
        var queued = Http.GetJsonAsync(port);
        var response = await queued;

        var exit = (await clusterd.WaitForEventAsync("exit", "web", count: 2))[1];
        Assert.Equal("crashed", exit.Reason);
        Assert.Equal("9", exit["Signal"]);
        Assert.Equal("0", response.GetProperty("slot").GetString());
        var restarted = (await clusterd.WaitForEventAsync("listening", "web", count: 3))[2];
        Assert.Equal(0, restarted.Slot);
        Assert.Equal(restarted.Pid, response.GetProperty("pid").GetInt32());
    }

    [Fact]
    public async Task Listen_UnixAndTcp_WorkerServesBoth()
    {
        var port = Ports.Free();
        var path = Path.Combine(Path.GetTempPath(), $"clusterd-web-{Guid.NewGuid():N}.sock"[..40]);
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker(), 2, [$"127.0.0.1:{port}", $"unix:{path}"]), output);
        await clusterd.WaitForEventAsync("listening", "web", count: 2);

        var overTcp = await Http.GetAsync(port);
        var overUnix = await Http.GetAsync(new UnixDomainSocketEndPoint(path));

        Assert.Equal(200, overTcp.Status);
        Assert.Equal(200, overUnix.Status);
    }

    [Fact]
    public async Task Start_PortAlreadyTaken_ExitsNonZeroAndSaysWhich()
    {
        using var squatter = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        squatter.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        squatter.Listen();
        var port = ((IPEndPoint)squatter.LocalEndPoint!).Port;
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, [$"127.0.0.1:{port}"]), output);

        var code = await clusterd.WaitForExitAsync();

        Assert.NotEqual(0, code);
        Assert.Contains(clusterd.Entries, e => e.Message.Contains($"127.0.0.1:{port}", StringComparison.Ordinal));
    }
}
