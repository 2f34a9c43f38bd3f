using System.Net.Sockets;
using Clusterd.Supervision;

namespace Clusterd.Tests.Supervision;

/// <summary>Supervisor.Listeners.cs: the list of listening sockets published for the metrics.</summary>
public sealed class SupervisorListenersTests
{
    [Fact]
    public void Same_TheListedSocketsInOrder_IsTrue_AnyDifferenceIsFalse()
    {
        using var a = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var b = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        ListenerSocket[] published = [new("web", "127.0.0.1:8080", a), new("web", "127.0.0.1:8080", b)];

        Assert.True(Supervisor.Same([("web", "127.0.0.1:8080", a), ("web", "127.0.0.1:8080", b)], published));
        Assert.True(Supervisor.Same([], []));
        Assert.False(Supervisor.Same([("web", "127.0.0.1:8080", b), ("web", "127.0.0.1:8080", a)], published)); // order
        Assert.False(Supervisor.Same([("web", "127.0.0.1:8080", a)], published)); // one gone
        Assert.False(Supervisor.Same([("web", "127.0.0.1:8080", a), ("web", "127.0.0.1:8080", b), ("web", "127.0.0.1:8080", b)], published)); // one more
        Assert.False(Supervisor.Same([("api", "127.0.0.1:8080", a), ("web", "127.0.0.1:8080", b)], published)); // group
        Assert.False(Supervisor.Same([("web", "127.0.0.1:8081", a), ("web", "127.0.0.1:8080", b)], published)); // address
        Assert.False(Supervisor.Same([], published));
    }
}
