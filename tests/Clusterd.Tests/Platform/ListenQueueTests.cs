using System.Net;
using System.Net.Sockets;
using Clusterd.Platform;

namespace Clusterd.Tests.Platform;

public class ListenQueueTests
{
    [Fact]
    public async Task TryRead_ThreeConnectionsNotAccepted_ReportsLengthThreeAndBacklogFive()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // TCP_INFO on a listener is Linux-only
        }
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(5);

        Assert.True(ListenQueue.TryRead(listener, out var empty, out var limit));
        Assert.Equal(0u, empty);
        Assert.Equal(5u, limit);

        var clients = new List<Socket>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                clients.Add(client);
                // On loopback the handshake completes inside connect(), so the connection is queued when it returns.
                await client.ConnectAsync(listener.LocalEndPoint!);
            }

            Assert.True(ListenQueue.TryRead(listener, out var length, out limit));
            Assert.Equal(3u, length);
            Assert.Equal(5u, limit);

            using (listener.Accept())
            {
            }
            Assert.True(ListenQueue.TryRead(listener, out length, out _));
            Assert.Equal(2u, length);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public void TryRead_DisposedSocket_ReturnsFalse()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(5);
        listener.Dispose();

        Assert.False(ListenQueue.TryRead(listener, out _, out _));
    }

    [Fact]
    public void TryRead_UnixSocket_ReturnsFalse()
    {
        var path = Path.Combine(Path.GetTempPath(), "clusterd-lq-" + Guid.NewGuid().ToString("N")[..8] + ".sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        try
        {
            listener.Listen(5);
            Assert.False(ListenQueue.TryRead(listener, out _, out _));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
