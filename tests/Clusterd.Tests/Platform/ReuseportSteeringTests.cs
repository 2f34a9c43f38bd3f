using System.Net;
using System.Net.Sockets;
using Clusterd.Platform;

namespace Clusterd.Tests.Platform;

/// <summary>Real SO_REUSEPORT listeners on 127.0.0.1 and a real BPF program (root only; CI runs as root).</summary>
public sealed class ReuseportSteeringTests : IDisposable
{
    private readonly List<Socket> _sockets = [];
    private readonly Dictionary<Socket, int> _accepted = [];

    public void Dispose()
    {
        foreach (var s in _sockets)
        {
            s.Dispose();
        }
    }

    [Fact]
    public void Route_SocketLeftOut_GetsNoNewConnection_AndItsQueueMovesOnWhenItCloses()
    {
        if (!OperatingSystem.IsLinux() || ReuseportSteering.Unavailable is string why)
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "CI runs as root on Linux: steering must work there");
            return;
        }
        var left = Listen(0);
        var port = ((IPEndPoint)left.LocalEndPoint!).Port;
        var b = Listen(port);
        var c = Listen(port);
        using var steering = new ReuseportSteering();

        steering.Route([b, c]);
        Connect(port, 40);
        Assert.Equal(40, AcceptFrom([b, c], 40));
        Assert.False(left.Poll(0, SelectMode.SelectRead), "a socket left out of the route got a connection");

        steering.Route([b]);
        Connect(port, 10);             // queued on b, accepted by nobody yet
        steering.Route([c]);
        b.Dispose();                   // b's queue goes to c, not to a reset

        Assert.Equal(10, AcceptFrom([c], 10));
        Assert.False(left.Poll(0, SelectMode.SelectRead));

        steering.Detach(c);            // the kernel's own choice again: by hash, among all of them
        Connect(port, 40);
        Assert.Equal(40, AcceptFrom([left, c], 40));
        Assert.True(_accepted[left] > 0, "after Detach, every socket of the group gets connections again");
    }

    [Fact]
    public void DetachAny_GroupLeftSteeredByAKilledClusterd_GetsTheKernelsOwnChoiceBack()
    {
        if (!OperatingSystem.IsLinux() || ReuseportSteering.Unavailable is string)
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "CI runs as root on Linux: steering must work there");
            return;
        }
        var a = Listen(0);
        var port = ((IPEndPoint)a.LocalEndPoint!).Port;
        var b = Listen(port);
        // A clusterd killed mid-rollout: its program stays attached to the group, routing only to b, and nobody
        // will ever change it (the fds the service manager keeps are the sockets, not the program or its map).
        using var killed = new ReuseportSteering();
        killed.Route([b]);
        Connect(port, 10);
        Assert.Equal(10, AcceptFrom([a, b], 10));
        Assert.False(_accepted.ContainsKey(a), "the left-over program should still route everything to b");

        ReuseportSteering.DetachAny(a); // what the next clusterd does with each socket it adopts

        Connect(port, 40);
        Assert.Equal(40, AcceptFrom([a, b], 40));
        Assert.True(_accepted.GetValueOrDefault(a) > 0, "after DetachAny, every socket of the group gets connections again");
    }

    [Fact]
    public void DetachAny_NoProgramAttached_LeavesTheSocketServing()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // steering is Linux only
        }
        var a = Listen(0);

        ReuseportSteering.DetachAny(a); // the usual case at adoption: the kernel says ENOENT

        Connect(((IPEndPoint)a.LocalEndPoint!).Port, 1);
        Assert.Equal(1, AcceptFrom([a], 1));
    }

    private Socket Listen(int port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _sockets.Add(s);
        s.SetRawSocketOption(1 /* SOL_SOCKET */, 15 /* SO_REUSEPORT */, BitConverter.GetBytes(1));
        s.Bind(new IPEndPoint(IPAddress.Loopback, port));
        s.Listen(128);
        return s;
    }

    private void Connect(int port, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            _sockets.Add(client);
            client.Connect(IPAddress.Loopback, port);
        }
    }

    /// <summary>Accepts until <paramref name="expected"/> connections came or none arrives for 10 s.</summary>
    private int AcceptFrom(List<Socket> listeners, int expected)
    {
        var accepted = 0;
        while (accepted < expected)
        {
            var ready = new List<Socket>(listeners);
            Socket.Select(ready, null, null, TimeSpan.FromSeconds(10));
            if (ready.Count == 0)
            {
                break;
            }
            foreach (var l in ready)
            {
                _sockets.Add(l.Accept());
                _accepted[l] = _accepted.GetValueOrDefault(l) + 1;
                accepted++;
            }
        }
        return accepted;
    }
}
