using System.Net.Sockets;
using System.Text.Json;
using Clusterd.Config;
using Clusterd.Platform;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace Clusterd.Control;

/// <summary>
/// The control socket. Every connection is checked by peer credentials and counted against <see cref="ConnectionLimits"/>
/// when it is accepted, reads frames with deadlines, and is answered by <see cref="CommandDispatcher"/>. Misbehaving
/// clients (garbage, oversized or half frames, too many at once, no access) get an error frame and are disconnected;
/// nothing they do reaches the supervisor loop except valid commands. docs/security.md has the threat model.
/// </summary>
internal sealed partial class ControlServer : IAsyncDisposable
{
    /// <summary>How long a connection may sit idle between requests. A follow stream is not idle: see <see cref="ConnectionLimits"/>.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long one frame may take to arrive once it has started, and a client may take to read one.</summary>
    public static readonly TimeSpan FrameTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Others may pass through the directory to their own sockets in it (notify sockets), but not list it.</summary>
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    /// <summary>Owner and <c>[control] group</c> may connect; the file mode is the first gate, peer credentials the second.</summary>
    public const UnixFileMode SocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    private const int Backlog = 128;
    private const string SocketWhat = "[control] socket";
    private const string DirectoryWhat = "[control] socket directory";

    private readonly Socket _listener;
    private readonly CommandDispatcher _dispatcher;
    private readonly ControlAccess _access;
    private readonly ConnectionLimits _limits = new();
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Task _acceptLoop = Task.CompletedTask;
    private CancellationTokenSource? _accepting;

    private ControlServer(string path, Socket listener, CommandDispatcher dispatcher, ControlAccess access, TimeProvider time, ILogger logger)
    {
        Path = path;
        _listener = listener;
        _dispatcher = dispatcher;
        _access = access;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// Starts answering. Until then connections wait in the listen backlog: the socket is claimed early (so a second
    /// clusterd refuses to start), but answered only once the supervisor has its groups, so no client sees an empty status.
    /// </summary>
    public void Accept()
    {
        _accepting = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token); // an upgrade stops accepting alone
        _acceptLoop = AcceptLoop.RunAsync(AcceptOneAsync, _time, _logger, _accepting.Token);
    }

    public string Path { get; }

    /// <summary>
    /// Creates the socket: its directory <see cref="DirectoryMode"/> if clusterd makes it (an existing one must be safe:
    /// <see cref="RuntimeDirectory"/>), the socket <see cref="SocketMode"/>, owned by <c>[control] group</c>. A socket file
    /// left by a crashed clusterd is replaced; anything else at the path, a live socket included, is refused and left alone.
    /// </summary>
    public static ControlServer Start(ControlConfig config, CommandDispatcher dispatcher, TimeProvider time, ILogger logger)
    {
        var path = PathOf(config);
        var access = ControlAccess.From(config);
        var gid = config.Group is null ? (uint?)null
            : UserDatabase.LookupGroup(config.Group) ?? throw new IOException($"[control] group = \"{config.Group}\": no such group; create it or remove the key");
        RuntimeDirectory.Ensure(System.IO.Path.GetDirectoryName(path)!, DirectoryMode, DirectoryWhat);
        SocketFile.Claim(path, SocketWhat);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            // Nobody can connect before listen(), so nobody gets in between the bind and these.
            FileStatus.ChangeMode(path, SocketMode);
            if (gid is { } group)
            {
                FileStatus.ChangeOwner(path, uint.MaxValue, group);
            }
            listener.Listen(Backlog);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        return new ControlServer(path, listener, dispatcher, access, time, logger);
    }

    /// <summary>What <see cref="Start"/> would refuse about the socket's path and directory, found without changing anything.</summary>
    public static IReadOnlyList<string> Check(ControlConfig config)
    {
        var path = PathOf(config);
        string?[] problems = [RuntimeDirectory.Check(System.IO.Path.GetDirectoryName(path)!, DirectoryWhat), SocketFile.Check(path, SocketWhat)];
        return [.. problems.OfType<string>()];
    }

    private static string PathOf(ControlConfig config) => config.Socket ?? SocketPaths.Default();

    private async ValueTask AcceptOneAsync(CancellationToken cancellationToken)
    {
        var client = await _listener.AcceptAsync(cancellationToken);
        PeerCredentials peer;
        try
        {
            peer = PeerCredentials.Of(client);
        }
        catch (Exception e) when (e is SocketException or IOException) // getsockopt or getpeereid: the client is gone already
        {
            client.Dispose();
            return;
        }
        var access = _access.LevelOf(peer);
        if (access == AccessLevel.None)
        {
            _dispatcher.Audit.ConnectionDenied(peer.Uid, peer.Pid);
            Refuse(client, Response.Failure(0, ErrorCodes.PermissionDenied,
                $"permission denied: uid {peer.Uid} may not use clusterd's control socket; ask an administrator to add you to [control] read_group or admin_group"));
            return;
        }
        if (_limits.TryAdmit(peer.Uid, access) is { } refusal)
        {
            if (refusal.FirstInARow)
            {
                LogRefused(peer.Uid, peer.Pid, refusal.Message);
            }
            Refuse(client, Response.Failure(0, ErrorCodes.TooManyConnections, refusal.Message));
            return;
        }
        _ = ServeAsync(client, peer, access);
    }

    /// <summary>
    /// The error frame, then the close, at once: a refused connection costs no descriptor beyond this call. A new
    /// socket's send buffer takes the small frame whole, and the client reads it even if its own request then met the
    /// closed socket (it is queued on the client's side).
    /// </summary>
    private static void Refuse(Socket client, Response refusal)
    {
        using (client)
        {
            try
            {
                client.Blocking = false;
                client.Send(Framing.Encode(JsonSerializer.SerializeToUtf8Bytes(refusal, ProtocolJsonContext.Default.Response)));
                ControlConnection.DropUnread(client);
            }
            catch (SocketException)
            {
                // The client is gone already; the close says the rest.
            }
        }
    }

    private async Task ServeAsync(Socket client, PeerCredentials peer, AccessLevel access)
    {
        using var connection = new ControlConnection(client, peer, access, _time);
        try
        {
            while (await ReadRequestAsync(connection) is { } payload)
            {
                if (!await HandleAsync(connection, payload))
                {
                    return;
                }
            }
        }
        catch (ProtocolException e)
        {
            await TrySendLastAsync(connection, Response.Failure(0, e.Code, e.Message));
        }
        catch (TimeoutException e)
        {
            await TrySendLastAsync(connection, Response.Failure(0, ErrorCodes.Timeout, e.Message));
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away or clusterd is stopping; nothing to answer.
        }
        finally
        {
            _limits.Release(peer.Uid, access);
        }
    }

    /// <returns>False when the connection is to be closed (its request was refused).</returns>
    private async Task<bool> HandleAsync(ControlConnection connection, byte[] payload)
    {
        Request? request;
        try
        {
            request = JsonSerializer.Deserialize(payload, ProtocolJsonContext.Default.Request);
        }
        catch (JsonException e)
        {
            // The frame was whole, so the next one can still be read: answer and go on.
            await connection.SendAsync(Response.Failure(0, ErrorCodes.BadRequest, $"the request is not valid JSON: {e.Message}"), _stop.Token);
            return true;
        }
        if (request is null)
        {
            await connection.SendAsync(Response.Failure(0, ErrorCodes.BadRequest, "the request is null; send an object such as {\"id\":1,\"command\":\"ping\"}"), _stop.Token);
            return true;
        }
        return await _dispatcher.DispatchAsync(request, connection, _stop.Token);
    }

    /// <summary>One request frame: clusterd waits <see cref="IdleTimeout"/> for it to begin, then <see cref="FrameTimeout"/> for the rest.</summary>
    private async Task<byte[]?> ReadRequestAsync(ControlConnection connection)
    {
        using var idle = new Deadline(IdleTimeout, _time, _stop.Token);
        Deadline? frame = null;
        try
        {
            return await Framing.ReadAsync(connection.Stream, Framing.MaxRequestPayload,
                () => (frame = new Deadline(FrameTimeout, _time, _stop.Token)).Token, idle.Token);
        }
        catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
        {
            throw new TimeoutException(frame is null
                ? $"no request for {IdleTimeout.TotalSeconds:0}s; closing the idle connection"
                : $"a frame did not arrive within {FrameTimeout.TotalSeconds:0}s of its first byte");
        }
        finally
        {
            frame?.Dispose();
        }
    }

    /// <summary>A last error frame before the close; if the client does not take it, the close alone must do.</summary>
    private static async Task TrySendLastAsync(ControlConnection connection, Response response)
    {
        try
        {
            await connection.SendAsync(response, CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose(); // and .NET removes the socket file it bound
        RemoveAdoptedFile();
        await _acceptLoop;
        _stop.Dispose();
        _accepting?.Dispose();
    }

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning,
        Message = "control socket: refused a connection of uid {Uid} (pid {Pid}): {Reason} (further refusals of this uid are not logged until one of its connections closes)")]
    private partial void LogRefused(uint uid, int pid, string reason);
}
