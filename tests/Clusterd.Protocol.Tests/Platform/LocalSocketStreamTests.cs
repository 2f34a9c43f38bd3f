using System.Net.Sockets;
using Clusterd.Protocol.Platform;

namespace Clusterd.Protocol.Tests.Platform;

/// <summary>clusterctl's blocking connection to a local socket, against a .NET listener on a real Unix socket.</summary>
public sealed class LocalSocketStreamTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly string _dir = Directory.CreateTempSubdirectory("clusterd-local-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string SocketPath => Path.Combine(_dir, "ctl.sock");

    private Socket Bind()
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(SocketPath));
        return socket;
    }

    /// <summary>A client connected to a listener here, and the listener's end of it.</summary>
    private async Task<Connected> ConnectedAsync()
    {
        using var listener = Bind();
        listener.Listen();
        var client = LocalSocketStream.Connect(SocketPath, Timeout);
        return new Connected(client, await listener.AcceptAsync());
    }

    private sealed record Connected(LocalSocketStream Client, Socket Server) : IDisposable
    {
        public void Dispose()
        {
            Client.Dispose();
            Server.Dispose();
        }
    }

    [Fact]
    public void Connect_NoSocketThere_FailsNoSuchSocket()
    {
        var e = Assert.Throws<LocalSocketException>(() => LocalSocketStream.Connect(SocketPath, Timeout));

        Assert.Equal(LocalSocketFailure.NoSuchSocket, e.Failure);
        Assert.StartsWith("connect: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Connect_BoundButNotListening_FailsRefused()
    {
        using var bound = Bind(); // as a socket a crashed clusterd left behind

        var e = Assert.Throws<LocalSocketException>(() => LocalSocketStream.Connect(SocketPath, Timeout));

        Assert.Equal(LocalSocketFailure.Refused, e.Failure);
    }

    [Fact]
    public void Connect_PathLongerThanAnAddressHolds_FailsSayingHowLong()
    {
        var path = "/" + new string('a', 200);

        var e = Assert.Throws<LocalSocketException>(() => LocalSocketStream.Connect(path, Timeout));

        Assert.Equal(LocalSocketFailure.Other, e.Failure);
        Assert.Contains("201 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_BacklogFull_TimesOut()
    {
        using var listener = Bind();
        listener.Listen(0);
        using var first = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await first.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath)); // takes the one place in the backlog

        var e = Assert.Throws<LocalSocketException>(() => LocalSocketStream.Connect(SocketPath, TimeSpan.FromMilliseconds(50)));

        Assert.Equal(LocalSocketFailure.TimedOut, e.Failure);
    }

    [Fact]
    public async Task WriteAndRead_BothWays_AndThePeerIsThisUser()
    {
        using var pair = await ConnectedAsync();
        var (client, server) = pair;

        client.Write("ping"u8);
        var request = new byte[4];
        await server.ReceiveAsync(request.AsMemory(), SocketFlags.None);
        await server.SendAsync("pong"u8.ToArray(), SocketFlags.None);
        var answer = new byte[4];
        client.ReadExactly(answer);

        Assert.Equal("ping"u8.ToArray(), request);
        Assert.Equal("pong"u8.ToArray(), answer);
        Assert.Equal(SocketTrust.OwnUid, client.PeerUid());
    }

    [Fact]
    public async Task ShutdownSend_ThePeerReadsTheEnd_AndCanStillAnswer()
    {
        using var pair = await ConnectedAsync();
        var (client, server) = pair;

        client.ShutdownSend();
        var end = await server.ReceiveAsync(new byte[1].AsMemory(), SocketFlags.None);
        await server.SendAsync("late"u8.ToArray(), SocketFlags.None);
        server.Shutdown(SocketShutdown.Send);

        Assert.Equal(0, end);
        using var rest = new MemoryStream();
        client.CopyTo(rest);
        Assert.Equal("late"u8.ToArray(), rest.ToArray());
    }

    [Fact]
    public async Task Read_NothingArrivesWithinReadTimeout_FailsTimedOut()
    {
        using var pair = await ConnectedAsync();
        var (client, server) = pair;
        client.ReadTimeout = 50;

        var e = Assert.Throws<LocalSocketException>(() => client.ReadExactly(new byte[1]));

        Assert.Equal(LocalSocketFailure.TimedOut, e.Failure);
    }

    [Fact]
    public async Task ReadAsync_Cancelled_WakesTheBlockedReadAndThrowsCancelled()
    {
        using var pair = await ConnectedAsync();
        var (client, server) = pair;
        using var cancel = new CancellationTokenSource();
        var reading = new TaskCompletionSource();

        // The read blocks its thread, so it runs on one of its own; cancelling it from here must end it.
        var read = Task.Factory.StartNew(() =>
        {
            reading.SetResult();
            return client.ReadAsync(new byte[1], cancel.Token).AsTask().GetAwaiter().GetResult();
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        await reading.Task;
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
    }

    [Fact]
    public async Task Write_PeerGone_FailsWithoutKillingTheProcess()
    {
        using var listener = Bind();
        listener.Listen();
        using var client = LocalSocketStream.Connect(SocketPath, Timeout);
        (await listener.AcceptAsync()).Dispose();

        // The first write may still be taken by the kernel; one after the peer's close is refused (EPIPE, no SIGPIPE).
        var e = Assert.Throws<LocalSocketException>(() => WriteUntilRefused(client));

        Assert.StartsWith("send: ", e.Message, StringComparison.Ordinal);
    }

    private static void WriteUntilRefused(LocalSocketStream client)
    {
        while (true)
        {
            client.Write(new byte[4096]);
        }
    }
}
