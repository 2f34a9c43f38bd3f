using System.Net;
using System.Net.Sockets;
using Clusterd.Config;
using Clusterd.Platform;
using Clusterd.Sockets;

namespace Clusterd.Tests.Sockets;

/// <summary>The real binder: real sockets on 127.0.0.1 (the kernel is the point here), a fake service manager.</summary>
public sealed class ListenerBinderTests : IDisposable
{
    private readonly List<Socket> _sockets = [];
    private readonly string _dir = Directory.CreateTempSubdirectory("clusterd-binder-").FullName;

    public void Dispose()
    {
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }
        Directory.Delete(_dir, recursive: true);
    }

    private string PathOf(string name) => Path.Combine(_dir, name);

    private static ListenAddress Unix(string path) => GroupListenersTests.Address("unix:" + path);

    private Socket Keep(Socket socket)
    {
        _sockets.Add(socket);
        return socket;
    }

    private static int PortOf(Socket socket) => ((IPEndPoint)socket.LocalEndPoint!).Port;

    private Socket Squatter()
    {
        var squatter = Keep(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        squatter.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        squatter.Listen();
        return squatter;
    }

    [Fact]
    public void Open_PortTakenBySomeoneElse_FailsNamingTheAddress()
    {
        var port = PortOf(Squatter());
        var binder = new ListenerBinder("web", source: null);

        var e = Assert.Throws<SocketException>(() => binder.Open(GroupListenersTests.Address($"127.0.0.1:{port}"), slot: 0));

        Assert.StartsWith($"cannot listen on 127.0.0.1:{port}: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_SlotsAndReplacements_ShareThePortThroughReusePort()
    {
        // Port 0 is no listen address: take a free port with a socket of the same SO_REUSEPORT group.
        var first = Keep(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        first.SetRawSocketOption(1 /* SOL_SOCKET */, 15 /* SO_REUSEPORT */, BitConverter.GetBytes(1));
        first.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var address = GroupListenersTests.Address($"127.0.0.1:{PortOf(first)}");
        var binder = new ListenerBinder("web", source: null);

        var slot0 = Keep(binder.Open(address, slot: 0));
        var slot1 = Keep(binder.Open(address, slot: 1));
        var unrouted = Keep(binder.BindUnrouted(address));

        Assert.All([slot0, slot1, unrouted], s => Assert.Equal(PortOf(first), PortOf(s)));
    }

    [Fact]
    public void Open_ServiceManagerPassedOne_AdoptsItInsteadOfBinding_AndLetsTheManagerKeepIt()
    {
        var passed = Squatter(); // bound without SO_REUSEPORT: binding the port again would fail
        var address = GroupListenersTests.Address($"127.0.0.1:{PortOf(passed)}");
        var source = new FakeSource(passed);
        var binder = new ListenerBinder("web", source);

        var socket = binder.Open(address, slot: null);
        binder.Drop(address, slot: null);

        Assert.Same(passed, socket);
        Assert.Equal(["adopt web 127.0.0.1:" + PortOf(passed) + " s", "opened s", "closed s"], source.Calls);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Open_UnixPathIsAFileOrALink_IsRefusedNamingThePath_AndNothingThereChanges(bool link)
    {
        var path = PathOf("web.sock");
        File.WriteAllText(link ? PathOf("precious") : path, "precious");
        if (link)
        {
            File.CreateSymbolicLink(path, PathOf("precious"));
        }
        var binder = new ListenerBinder("web", source: null);

        var e = Assert.Throws<IOException>(() => binder.Open(Unix(path), slot: null));

        Assert.StartsWith($"group 'web': listen path {path} ", e.Message, StringComparison.Ordinal);
        Assert.Contains(link ? "is a symbolic link" : "is a regular file, not a socket", e.Message, StringComparison.Ordinal);
        Assert.Equal(link ? FileKind.Symlink : FileKind.Regular, FileStatus.Of(path).Kind);
        Assert.Equal("precious", File.ReadAllText(path));
    }

    [Fact]
    public void Open_UnixPathHoldsAStaleSocketFile_ClaimsItAndBindsThere()
    {
        var path = PathOf("web.sock");
        using (var crashed = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            UnixSocketBind.Bind(crashed, path); // behind .NET's back, so its Dispose leaves the file, as a crash would
        }
        var binder = new ListenerBinder("web", source: null);

        var socket = Keep(binder.Open(Unix(path), slot: null));
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        client.Connect(new UnixDomainSocketEndPoint(path));
        // As a worker takes it: from the descriptor (ownsHandle: false, the binder's Socket owns it).
        using var worker = new Socket(new SafeSocketHandle(socket.Handle, ownsHandle: false));

        using var accepted = worker.Accept();
        Assert.True(accepted.Connected);
    }

    [Fact]
    public void Close_ForGood_RemovesTheSocketFileItBound()
    {
        var path = PathOf("web.sock");
        var binder = new ListenerBinder("web", source: null);
        var socket = binder.Open(Unix(path), slot: null);

        binder.Close(Unix(path), socket, forGood: true);

        Assert.Equal(FileKind.Missing, FileStatus.Of(path).Kind);
    }

    [Fact]
    public void Close_PathReplacedSinceBind_LeavesWhatIsThereNow()
    {
        var path = PathOf("web.sock");
        var binder = new ListenerBinder("web", source: null);
        var socket = binder.Open(Unix(path), slot: null);
        File.Delete(path);
        File.WriteAllText(path, "precious");

        binder.Close(Unix(path), socket, forGood: true);

        Assert.Equal("precious", File.ReadAllText(path));
    }

    [Fact]
    public void Close_OnTheWayOutUnderAServiceManager_KeepsThePathForTheNextClusterd()
    {
        var path = PathOf("web.sock");
        var binder = new ListenerBinder("web", new FakeSource(passed: null));
        var socket = binder.Open(Unix(path), slot: null);

        binder.Close(Unix(path), socket, forGood: false);

        Assert.Equal(FileKind.Socket, FileStatus.Of(path).Kind);
    }

    [Fact]
    public void Close_AdoptedUnixSocket_LeavesItsPathToWhoeverMadeIt()
    {
        var path = PathOf("web.sock");
        var passed = Keep(new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified));
        UnixSocketBind.Bind(passed, path);
        passed.Listen();
        var binder = new ListenerBinder("web", new FakeSource(passed));
        var socket = binder.Open(Unix(path), slot: null);

        binder.Close(Unix(path), socket, forGood: true);

        Assert.Equal(FileKind.Socket, FileStatus.Of(path).Kind);
    }

    [Fact]
    public void Check_FilesAndLinksAtUnixListenPaths_AreReported_SocketsAndFreePathsAreNot()
    {
        File.WriteAllText(PathOf("file"), "precious");
        File.CreateSymbolicLink(PathOf("link"), PathOf("file"));
        var live = Keep(new ListenerBinder("web", source: null).Open(Unix(PathOf("live")), slot: null));
        var group = GroupListenersTests.Group(SharingMode.Shared, 1, "unix:" + PathOf("file"), "unix:" + PathOf("link"),
            "unix:" + PathOf("live"), "unix:" + PathOf("free"), "127.0.0.1:8080");
        var config = new ClusterConfig("test.toml", new ControlConfig(null, null, null, null), new MetricsConfig(null), [group], ContainerConfig.Default);

        var problems = ListenerBinder.Check(config);

        Assert.Equal(2, problems.Count);
        Assert.StartsWith($"group 'web': listen path {PathOf("file")} exists and is a regular file", problems[0], StringComparison.Ordinal);
        Assert.StartsWith($"group 'web': listen path {PathOf("link")} is a symbolic link", problems[1], StringComparison.Ordinal);
        Assert.Equal("precious", File.ReadAllText(PathOf("file")));
        Assert.NotNull(live);
    }

    /// <summary>A service manager that passed one socket.</summary>
    private sealed class FakeSource(Socket? passed) : ISocketSource
    {
        private Socket? _passed = passed;

        public List<string> Calls { get; } = [];

        public Socket? Adopt(string group, ListenAddress address, int? slot, bool reusePort)
        {
            Calls.Add($"adopt {group} {address} {Slot(slot)}");
            var socket = _passed;
            _passed = null;
            return socket;
        }

        public void Opened(string group, ListenAddress address, int? slot, Socket socket) => Calls.Add($"opened {Slot(slot)}");

        public void Closed(string group, ListenAddress address, int? slot) => Calls.Add($"closed {Slot(slot)}");

        public IReadOnlyList<string> CloseUnclaimed() => [];

        private static string Slot(int? slot) => slot?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "s";
    }
}
