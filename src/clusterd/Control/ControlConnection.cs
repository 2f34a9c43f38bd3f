using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Clusterd.Platform;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;

namespace Clusterd.Control;

/// <summary>
/// One client connection: who it is, and a way to send it response frames (serialised, each with a deadline), long
/// lists as <see cref="Pages"/>. Requests on one connection are served one at a time.
/// </summary>
internal sealed class ControlConnection : IDisposable
{
    /// <summary>More unread input than this at close is a client that floods; it gets a reset instead.</summary>
    private const int MaxUnreadDropped = Framing.MaxRequestPayload;

    private readonly Socket _socket;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly JsonSize _sizes = new();

    public ControlConnection(Socket socket, PeerCredentials peer, AccessLevel access, TimeProvider time)
    {
        _socket = socket;
        _time = time;
        Peer = peer;
        Access = access;
        Stream = new NetworkStream(socket, ownsSocket: true);
    }

    public NetworkStream Stream { get; }

    public PeerCredentials Peer { get; }

    public AccessLevel Access { get; }

    /// <summary>Sends one frame. A client that does not take it within <see cref="ControlServer.FrameTimeout"/> is dropped.</summary>
    public async Task SendAsync(Response response, CancellationToken cancellationToken)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(response, ProtocolJsonContext.Default.Response);
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            using var deadline = new Deadline(ControlServer.FrameTimeout, _time, cancellationToken);
            await Framing.WriteAsync(Stream, payload, deadline.Token);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <inheritdoc cref="SendPagesAsync{T}(IEnumerable{ValueTuple{T, int}}, Func{IReadOnlyList{T}, Response}, bool, CancellationToken)"/>
    public Task SendPagesAsync<T>(IEnumerable<T> items, JsonTypeInfo<T> type, Func<IReadOnlyList<T>, Response> page, bool moreAfter,
        CancellationToken cancellationToken) =>
        SendPagesAsync(items.Select(item => (item, _sizes.Of(item, type))), page, moreAfter, cancellationToken);

    /// <summary>
    /// Sends a list as pages (<see cref="Pages"/>), each frame made by <paramref name="page"/>; every frame but the last
    /// has <c>more</c>, and the last too when <paramref name="moreAfter"/> (a stream goes on after it).
    /// </summary>
    public async Task SendPagesAsync<T>(IEnumerable<(T Item, int Size)> items, Func<IReadOnlyList<T>, Response> page, bool moreAfter,
        CancellationToken cancellationToken)
    {
        List<T>? previous = null;
        foreach (var next in Pages.Split(items))
        {
            if (previous is not null)
            {
                await SendAsync(page(previous) with { More = true }, cancellationToken);
            }
            previous = next;
        }
        await SendAsync(page(previous!) with { More = moreAfter }, cancellationToken);
    }

    public void Dispose()
    {
        DropUnread(_socket);
        Stream.Dispose();
        _sendLock.Dispose();
        _sizes.Dispose();
    }

    /// <summary>
    /// Reads and drops what the client has sent and clusterd has not read, without waiting for more. A Unix socket
    /// closed with unread input makes the client's next read fail (ECONNRESET) once it has read what is queued; after
    /// a last error frame the client reads on to see the end, which must then be a clean one.
    /// </summary>
    public static void DropUnread(Socket socket)
    {
        try
        {
            var sink = new byte[4096];
            var dropped = 0;
            while (dropped < MaxUnreadDropped && socket.Available > 0)
            {
                dropped += socket.Receive(sink, SocketFlags.None);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Gone already: nothing to drop.
        }
    }
}
