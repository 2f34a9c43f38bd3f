using System.Net.Sockets;
using System.Text.Json;
using Clusterd.Protocol.Messages;

namespace Clusterd.Protocol.Tests;

public sealed class ControlClientTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("clusterd-client-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task StreamAsync_RefusedAndClosedBeforeTheRequestIsSent_StillReadsTheRefusal()
    {
        var path = Path.Combine(_dir, "ctl.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var client = await ControlClient.ConnectAsync(path, cts.Token);
        using (var server = await listener.AcceptAsync(cts.Token))
        {
            // As clusterd refuses a connection: the error frame, and the close, before the client has said anything.
            var refusal = Response.Failure(0, ErrorCodes.TooManyConnections, "too many");
            await server.SendAsync(Framing.Encode(JsonSerializer.SerializeToUtf8Bytes(refusal, ProtocolJsonContext.Default.Response)), cts.Token);
        }

        var response = await client.RequestAsync(new Request { Command = Clusterd.Protocol.Messages.Commands.Ping }, cts.Token);

        Assert.Equal(ErrorCodes.TooManyConnections, response.Error?.Code);
    }
}
