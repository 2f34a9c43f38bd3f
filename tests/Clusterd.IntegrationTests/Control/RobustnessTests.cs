using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Clusterd.IntegrationTests.Infrastructure;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Control;

/// <summary>Hostile and careless clients: each gets an error, and clusterd and its workers carry on.</summary>
public class RobustnessTests(ITestOutputHelper output)
{
    private static async Task<Socket> RawAsync(ClusterdProcess clusterd)
    {
        await (await clusterd.ConnectAsync()).DisposeAsync();
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(clusterd.ControlSocket));
        return socket;
    }

    /// <summary>Reads one response frame, or null if the server closed the connection first.</summary>
    private static async Task<Response?> ReadResponseAsync(Socket socket)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var payload = await Framing.ReadAsync(new NetworkStream(socket), cts.Token);
        return payload is null ? null : JsonSerializer.Deserialize(payload, ProtocolJsonContext.Default.Response);
    }

    private static async Task AssertStillServingAsync(ClusterdProcess clusterd, int workerPid)
    {
        var ping = await clusterd.RequestAsync(new Request { Command = Commands.Ping });
        Assert.Equal("pong", ping.Message);
        Assert.True(Native.IsAlive(workerPid));
    }

    [Fact]
    public async Task Garbage_GetsBadFrameAndIsDisconnected()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, []), output);
        var worker = (await clusterd.WaitForEventAsync("listening", "web"))[0];
        using var socket = await RawAsync(clusterd);

        await socket.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        var response = await ReadResponseAsync(socket);

        Assert.Equal(ErrorCodes.BadFrame, response!.Error!.Code);
        Assert.Equal(0, await socket.ReceiveAsync(new byte[16]));
        await AssertStillServingAsync(clusterd, worker.Pid);
    }

    [Fact]
    public async Task OversizedFrame_IsRefusedBeforeItsPayloadIsRead()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, []), output);
        var worker = (await clusterd.WaitForEventAsync("listening", "web"))[0];
        using var socket = await RawAsync(clusterd);
        var header = new byte[Framing.HeaderSize];
        Framing.Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(4), ProtocolVersion.Current);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(6), uint.MaxValue);

        await socket.SendAsync(header);
        var response = await ReadResponseAsync(socket);

        Assert.Equal(ErrorCodes.FrameTooLarge, response!.Error!.Code);
        await AssertStillServingAsync(clusterd, worker.Pid);
    }

    [Fact]
    public async Task WrongVersion_IsRefusedWithVersionMismatch()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, []), output);
        using var socket = await RawAsync(clusterd);
        var frame = Framing.Encode("{}"u8);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(4), 99);

        await socket.SendAsync(frame);

        Assert.Equal(ErrorCodes.VersionMismatch, (await ReadResponseAsync(socket))!.Error!.Code);
    }

    [Fact]
    public async Task InvalidJsonAndUnknownCommand_GetClearErrors()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, []), output);
        using var socket = await RawAsync(clusterd);
        await using var client = await clusterd.ConnectAsync();

        await socket.SendAsync(Framing.Encode("{not json"u8));
        var bad = await ReadResponseAsync(socket);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var unknown = await client.RequestAsync(new Request { Command = "launch-missiles" }, cts.Token);

        Assert.Equal(ErrorCodes.BadRequest, bad!.Error!.Code);
        Assert.Equal(ErrorCodes.UnknownCommand, unknown.Error!.Code);
        Assert.Contains("status", unknown.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OverlongName_IsABadRequest_AndTheConnectionGoesOn()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, []), output);
        await using var client = await clusterd.ConnectAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var overlong = await client.RequestAsync(new Request { Command = Commands.Status, Group = new string('x', 1000) }, cts.Token);
        var ping = await client.RequestAsync(new Request { Command = Commands.Ping }, cts.Token);

        Assert.Equal(ErrorCodes.BadRequest, overlong.Error!.Code);
        Assert.Contains("'group' is longer than 256 characters", overlong.Error.Message, StringComparison.Ordinal);
        Assert.Equal("pong", ping.Message);
    }

    [Fact]
    public async Task HalfAFrameThenSilence_TimesOutWithoutStallingOthers()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, []), output);
        var worker = (await clusterd.WaitForEventAsync("listening", "web"))[0];
        using var socket = await RawAsync(clusterd);

        await socket.SendAsync(Framing.Encode("{\"command\":\"ping\"}"u8).AsMemory(0, 12));
        await AssertStillServingAsync(clusterd, worker.Pid); // others are served while this one hangs
        var response = await ReadResponseAsync(socket);

        Assert.Equal(ErrorCodes.Timeout, response!.Error!.Code);
    }

    [Fact]
    public async Task ThousandClientsAtOnce_EachIsAnsweredOrRefused_AndClusterdCarriesOn()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, []), output: null);
        var worker = (await clusterd.WaitForEventAsync("listening", "web"))[0];
        await (await clusterd.ConnectAsync()).DisposeAsync();

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 1000).Select(async _ =>
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                await using var client = await ControlClient.ConnectAsync(clusterd.ControlSocket, cts.Token);
                var r = await client.RequestAsync(new Request { Command = Commands.Status }, cts.Token);
                return r.Ok ? "ok" : r.Error!.Code;
            }
            catch (Exception e) when (e is SocketException or IOException or ProtocolException)
            {
                return "refused:" + e.GetType().Name; // the listen backlog overflowed: the kernel refused, clusterd never saw it
            }
        }));

        output.WriteLine(string.Join(", ", outcomes.GroupBy(o => o).Select(g => $"{g.Key}={g.Count()}")));
        Assert.All(outcomes, o => Assert.True(o is "ok" or ErrorCodes.TooManyConnections || o.StartsWith("refused:", StringComparison.Ordinal), o));
        Assert.Contains("ok", outcomes);
        await AssertStillServingAsync(clusterd, worker.Pid);
    }

    [Fact]
    public async Task SecondClusterd_OnALiveSocket_RefusesToStartAndNamesTheHolder()
    {
        await using var first = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, []), output);
        await (await first.ConnectAsync()).DisposeAsync();
        var config = $"[control]\nsocket = \"{first.ControlSocket}\"\n\n" + Toml.Group("other", ["/bin/sleep", "1000"], 1, [], "reuseport", "started");

        await using var second = ClusterdProcess.Start(config, output);
        var code = await second.WaitForExitAsync();

        Assert.Equal(1, code);
        Assert.Contains(second.Entries, e => e.Message.Contains($"pid {first.Pid}", StringComparison.Ordinal));
        Assert.DoesNotContain(second.Entries, e => e.Event == "fork");
        Assert.Equal("pong", (await first.RequestAsync(new Request { Command = Commands.Ping })).Message);
    }

    [Fact]
    public async Task StaleSocketFile_FromACrashedClusterd_IsReplaced()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"clusterd-stale-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "ctl.sock");
        using (var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            dead.Bind(new UnixDomainSocketEndPoint(path)); // bound and closed: the file stays, nobody listens
        }
        try
        {
            await using var clusterd = ClusterdProcess.Start($"[control]\nsocket = \"{path}\"\n\n" + Toml.Group("web", Toml.Worker(), 1, []), output);
            await clusterd.WaitForAsync(e => e.EventId == 4, what: "the control socket");
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await using var client = await ControlClient.ConnectAsync(path, cts.Token);

            Assert.Equal("pong", (await client.RequestAsync(new Request { Command = Commands.Ping }, cts.Token)).Message);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, File.GetUnixFileMode(path));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
