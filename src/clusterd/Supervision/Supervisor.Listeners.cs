using System.Net.Sockets;
using Clusterd.Config;
using Clusterd.Sockets;

namespace Clusterd.Supervision;

/// <summary>One listening socket clusterd holds, for readers off the loop (metrics: the accept-queue gauges).</summary>
internal sealed record ListenerSocket(string Group, string Listen, Socket Socket);

internal sealed partial class Supervisor
{
    private IReadOnlyList<ListenerSocket> _listenerSockets = [];

    /// <summary>
    /// The sockets as of the last published snapshot; safe to read from any thread. GroupListeners may only be
    /// touched on the loop, so the loop copies the list when it publishes, and readers never take a lock the loop
    /// would wait on. A socket in the list may be closed by the loop afterwards (scale-down, shutdown): readers must
    /// treat <see cref="ObjectDisposedException"/> as "gone". SafeSocketHandle's reference count keeps the fd from being
    /// reused underneath a call already in flight.
    /// </summary>
    public IReadOnlyList<ListenerSocket> ListenerSockets => Volatile.Read(ref _listenerSockets);

    /// <summary>What <see cref="_listenerSockets"/> was listed from: each group's addresses and their change counts.</summary>
    private (IAddressSockets Address, int Changes)[] _listenerVersions = [];

    /// <summary>
    /// A new list only when a socket came or went: the loop publishes after every burst of events, and listing (or
    /// comparing) a socket per slot each time was a third of the loop's CPU in a start of 1000 workers. An address
    /// moves to another group's set only with its own (reload), so its object and change count say it all.
    /// </summary>
    private void PublishListenerSockets()
    {
        var versions = _groups.Values.SelectMany(g => g.Listeners.SocketVersions()).ToArray();
        if (versions.AsSpan().SequenceEqual(_listenerVersions))
        {
            return;
        }
        _listenerVersions = versions;
        Volatile.Write(ref _listenerSockets,
            _groups.Values.SelectMany(g => g.Listeners.AllSockets().Select(s => new ListenerSocket(g.Name, s.Address.Text, s.Socket))).ToArray());
    }

    private GroupListeners BindListeners(GroupConfig group) => BindListeners(group, _sockets);

    /// <summary>
    /// A dry run's socket source: it binds as a reload would, but adopts nothing from the service manager and tells it
    /// nothing, since its sockets are let go at once. (An address only a socket unit provides binds here, and may
    /// then be refused as taken where the real reload would adopt it.)
    /// </summary>
    private sealed class DryRunSockets : ISocketSource
    {
        public static readonly DryRunSockets Instance = new();

        public System.Net.Sockets.Socket? Adopt(string group, ListenAddress address, int? slot, bool reusePort) => null;

        public void Opened(string group, ListenAddress address, int? slot, System.Net.Sockets.Socket socket)
        {
        }

        public void Closed(string group, ListenAddress address, int? slot)
        {
        }

        public IReadOnlyList<string> CloseUnclaimed() => [];
    }

    private GroupListeners BindListeners(GroupConfig group, ISocketSource? sockets) =>
        GroupListeners.Bind(group, sockets, steeringFailed: why => LogSteeringFailed(group.Name, why));
}
