using System.Net.Sockets;

namespace Clusterd.Protocol.Tests;

/// <summary>The client's checks of whom it talks to. A socket of another uid needs root to make: the integration tests have it.</summary>
public sealed class SocketTrustTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("clusterd-trust-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Socket Listen(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        socket.Listen();
        return socket;
    }

    [Fact]
    public void CheckFile_OwnSocket_Passes()
    {
        var path = Path.Combine(_dir, "ctl.sock");
        using var listener = Listen(path);

        SocketTrust.CheckFile(path);
    }

    [Fact]
    public void CheckFile_ASymbolicLinkToASocket_IsRefused()
    {
        var path = Path.Combine(_dir, "ctl.sock");
        using var listener = Listen(path);
        var link = Path.Combine(_dir, "link.sock");
        File.CreateSymbolicLink(link, path);

        var e = Assert.Throws<UntrustedSocketException>(() => SocketTrust.CheckFile(link));

        Assert.Contains("symbolic link", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckFile_NothingThere_IsLeftToConnect()
    {
        SocketTrust.CheckFile(Path.Combine(_dir, "missing.sock"));
    }

    [Fact]
    public async Task CheckPeer_OwnListener_Passes()
    {
        var path = Path.Combine(_dir, "ctl.sock");
        using var listener = Listen(path);
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(path));

        SocketTrust.CheckPeer(client);
    }
}
