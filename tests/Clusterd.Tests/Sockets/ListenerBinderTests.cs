using System.Net;
using System.Net.Sockets;
using Clusterd.Config;
using Clusterd.Sockets;

namespace Clusterd.Tests.Sockets;

/// <summary>The real binder: real sockets on 127.0.0.1 (the kernel is the point here), a fake service manager.</summary>
public sealed class ListenerBinderTests : IDisposable
{
    private readonly List<Socket> _sockets = [];

    public void Dispose()
    {
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }
    }

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

    /// <summary>A service manager that passed one socket.</summary>
    private sealed class FakeSource(Socket passed) : ISocketSource
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
