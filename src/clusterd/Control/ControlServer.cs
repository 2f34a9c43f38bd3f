using System.Net.Sockets;
using System.Text.Json;
using Clusterd.Config;
using Clusterd.Platform;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace Clusterd.Control;

/// <summary>
/// The control socket. Every connection is checked by peer credentials, reads frames with a deadline, and is
/// answered by <see cref="CommandDispatcher"/>. Misbehaving clients (garbage, oversized or half frames, too many at
/// once) get an error frame and are disconnected; nothing they do reaches the supervisor loop except valid commands.
/// </summary>
internal sealed partial class ControlServer : IAsyncDisposable
{
    /// <summary>Connections served at once; more are told "too many connections" and closed.</summary>
    public const int MaxConnections = 256;

    /// <summary>How long a connection may sit idle between requests.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long one frame may take to arrive once it has started.</summary>
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
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Task _acceptLoop = Task.CompletedTask;
    private int _connections;

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
    public void Accept() => _acceptLoop = AcceptLoopAsync();

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

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                LogAcceptFailed(e.Message); // EMFILE and the like: keep serving the connections we have
                continue;
            }
            if (Interlocked.Increment(ref _connections) > MaxConnections)
            {
                Interlocked.Decrement(ref _connections);
                _ = RefuseAsync(client);
                continue;
            }
            _ = ServeAsync(client);
        }
    }

    private static async Task RefuseAsync(Socket client)
    {
        using (client)
        {
            await TrySendAsync(client, Response.Failure(0, ErrorCodes.TooManyConnections,
                $"clusterd serves at most {MaxConnections} control connections at once; try again"), CancellationToken.None);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using var connection = new ControlConnection(client, _time);
        try
        {
            var peer = PeerCredentials.Of(client);
            connection.Peer = peer;
            connection.Access = _access.LevelOf(peer);
            while (!_stop.IsCancellationRequested)
            {
                var payload = await ReadRequestAsync(connection);
                if (payload is null)
                {
                    return; // clean close between requests
                }
                Request? request;
                try
                {
                    request = JsonSerializer.Deserialize(payload, ProtocolJsonContext.Default.Request);
                }
                catch (JsonException e)
                {
                    await connection.SendAsync(Response.Failure(0, ErrorCodes.BadRequest, $"the request is not valid JSON: {e.Message}"), _stop.Token);
                    return;
                }
                if (request is null)
                {
                    await connection.SendAsync(Response.Failure(0, ErrorCodes.BadRequest, "empty request"), _stop.Token);
                    return;
                }
                await _dispatcher.DispatchAsync(request, connection, _stop.Token);
            }
        }
        catch (ProtocolException e)
        {
            await TrySendAsync(client, Response.Failure(0, e.Code, e.Message), CancellationToken.None);
        }
        catch (TimeoutException e)
        {
            await TrySendAsync(client, Response.Failure(0, ErrorCodes.Timeout, e.Message), CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away or clusterd is stopping; nothing to answer.
        }
        finally
        {
            Interlocked.Decrement(ref _connections);
        }
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

    /// <summary>
    /// Sends a last error frame, then closes without resetting: input the client sent after its bad frame is read
    /// and dropped first (briefly), because closing with unread input makes the kernel send RST, which can destroy
    /// the error frame before the client reads it (nginx's lingering close).
    /// </summary>
    private static async Task TrySendAsync(Socket client, Response response, CancellationToken cancellationToken)
    {
        try
        {
            var payload = JsonSerializer.SerializeToUtf8Bytes(response, ProtocolJsonContext.Default.Response);
            using var timeout = new CancellationTokenSource(FrameTimeout);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
            await client.SendAsync(Framing.Encode(payload), SocketFlags.None, linked.Token);
            client.Shutdown(SocketShutdown.Send);
            using var linger = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            var sink = new byte[4096];
            var drained = 0;
            while (drained < 1 << 20 && await client.ReceiveAsync(sink, SocketFlags.None, linger.Token) is var n and > 0)
            {
                drained += n;
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose(); // and .NET removes the socket file it bound
        await _acceptLoop;
        _stop.Dispose();
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "control socket: accept failed: {Reason}")]
    private partial void LogAcceptFailed(string reason);
}
