using System.Net.Sockets;
using Clusterd.Config;
using Clusterd.Platform;
using Clusterd.Sockets;

namespace Clusterd.Tests.Sockets;

/// <summary>
/// An <see cref="IListenerBinder"/> that binds nothing: its sockets are real, unbound TCP sockets, so the listener
/// set's bookkeeping can be checked by reference. It plays the service manager's fd store (<see cref="Kept"/>) and the
/// kernel's steering (<see cref="Routed"/>) too.
/// </summary>
internal sealed class FakeListenerBinder : IListenerBinder, IDisposable
{
    private readonly List<Socket> _made = [];

    /// <summary>Sockets the service manager holds a copy of, by fd-store name ("address/slot" here).</summary>
    public Dictionary<string, Socket> Kept { get; } = [];

    public List<(ListenAddress Address, Socket Socket, bool ForGood)> Closed { get; } = [];

    /// <summary>Sockets opened for a slot (or shared), in order.</summary>
    public List<(ListenAddress Address, int? Slot, Socket Socket)> Opened { get; } = [];

    /// <summary>Every call, in order: "open 127.0.0.1:1/0", "bind 127.0.0.1:1", "route 2", "detach", "close"...</summary>
    public List<string> Calls { get; } = [];

    /// <summary>What the attached program routes to; null while the kernel picks by hash among all sockets.</summary>
    public IReadOnlyList<Socket>? Routed { get; private set; }

    public bool CanSteer { get; set; } = true;

    /// <summary>Given each bind before it happens ("open 127.0.0.1:8080/0", "bind 127.0.0.1:8080"): what it throws, if anything.</summary>
    public Func<string, Exception?>? Fault { get; set; }

    /// <summary>Thrown by every Route from now on.</summary>
    public Exception? FailRoute { get; set; }

    public static string Name(ListenAddress address, int? slot) => $"{address}/{(slot is int s ? s : "s")}";

    public Socket Open(ListenAddress address, int? slot)
    {
        var socket = Make($"open {Name(address, slot)}");
        Opened.Add((address, slot, socket));
        Kept[Name(address, slot)] = socket;
        return socket;
    }

    public Socket BindUnrouted(ListenAddress address) => Make($"bind {address}");

    public void Keep(ListenAddress address, int? slot, Socket socket)
    {
        Calls.Add($"keep {Name(address, slot)}");
        Kept[Name(address, slot)] = socket;
    }

    public void Drop(ListenAddress address, int? slot)
    {
        Calls.Add($"drop {Name(address, slot)}");
        Kept.Remove(Name(address, slot));
    }

    public void Close(ListenAddress address, Socket socket, bool forGood)
    {
        Calls.Add("close");
        Closed.Add((address, socket, forGood));
        socket.Dispose();
    }

    public IReuseportSteering NewSteering() => new Steering(this);

    public bool IsClosed(Socket socket) => Closed.Any(c => c.Socket == socket);

    private Socket Make(string call)
    {
        if (Fault?.Invoke(call) is { } failure)
        {
            throw failure;
        }
        Calls.Add(call);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _made.Add(socket);
        return socket;
    }

    public void Dispose()
    {
        foreach (var socket in _made)
        {
            socket.Dispose();
        }
    }

    private sealed class Steering(FakeListenerBinder kernel) : IReuseportSteering
    {
        public void Route(IReadOnlyList<Socket> routed)
        {
            if (kernel.FailRoute is { } failure)
            {
                throw failure;
            }
            kernel.Calls.Add($"route {routed.Count}");
            kernel.Routed = [.. routed];
        }

        public void Detach(Socket anyInGroup)
        {
            kernel.Calls.Add("detach");
            kernel.Routed = null;
        }

        public void Dispose()
        {
        }
    }
}
