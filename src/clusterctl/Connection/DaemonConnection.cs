using System.Runtime.CompilerServices;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Clusterd.Protocol.Platform;

namespace Clusterctl.Connection;

/// <summary>
/// clusterctl's view of one clusterd, through its local socket or over SSH (<see cref="SshStream"/>): <see cref="ControlClient"/>
/// plus the translation of every way talking to clusterd can fail into a <see cref="CliException"/> with the right exit code and a message that says what to try.
/// </summary>
internal sealed class DaemonConnection : IAsyncDisposable
{
    private readonly ControlClient _client;

    private DaemonConnection(string address, ControlClient client)
    {
        Address = address;
        _client = client;
    }

    /// <summary>Where the commands go, as messages name it: the socket's path, or <c>ssh://user@host:port</c>.</summary>
    public string Address { get; }

    /// <summary>False once a request failed or was abandoned mid-stream; the shell then reconnects for the next command.</summary>
    public bool Healthy { get; private set; } = true;

    /// <summary>Connects to the local socket; reads and writes on it block (<see cref="LocalSocketStream"/> says why).</summary>
    public static DaemonConnection Connect(string socketPath, TimeSpan timeout) =>
        new(socketPath, ControlClient.Over(ConnectSocket(socketPath, timeout)));

    /// <summary>Starts ssh to <paramref name="host"/>; whether it got there, the first request tells (<see cref="SshStream"/>).</summary>
    public static DaemonConnection Connect(SshHost host, TimeSpan timeout, string? remoteSocket) =>
        new(SshHost.Scheme + host.Label, ControlClient.Over(SshStream.Start(host, timeout, remoteSocket)));

    /// <summary>
    /// The connected, trusted control socket, or a <see cref="CliException"/> that says why not and what to try. The
    /// connect waits only while the listener's backlog is full, for at most <paramref name="timeout"/>: that is the
    /// deadline, without a timer or a thread to keep it. Ctrl-C does not end that wait; the deadline does.
    /// </summary>
    public static LocalSocketStream ConnectSocket(string socketPath, TimeSpan timeout)
    {
        try
        {
            SocketTrust.CheckFile(socketPath);
            var socket = LocalSocketStream.Connect(socketPath, timeout);
            try
            {
                SocketTrust.CheckPeer(socket);
                return socket;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        catch (LocalSocketException ex) when (ex.Failure == LocalSocketFailure.TimedOut)
        {
            throw new CliException(ExitCodes.System,
                $"cannot connect to clusterd at {socketPath}: timed out after {Output.Formats.Duration(timeout)}; is clusterd running? try --socket PATH or --timeout");
        }
        catch (LocalSocketException ex)
        {
            throw new CliException(ExitCodes.System, ConnectFailure(socketPath, ex), ex);
        }
        catch (UntrustedSocketException ex)
        {
            throw new CliException(ExitCodes.System, $"not talking to {socketPath}: {ex.Message}", ex);
        }
    }

    private static string ConnectFailure(string socketPath, LocalSocketException ex)
    {
        var why = ex.Failure switch
        {
            LocalSocketFailure.NoSuchSocket => "no such socket",
            LocalSocketFailure.Refused => "connection refused (a stale socket file, or nothing is listening)",
            LocalSocketFailure.AccessDenied => $"permission denied on the socket file (you are uid {CurrentUid()})",
            _ => ex.Message,
        };
        return $"cannot connect to clusterd at {socketPath}: {why}; is clusterd running? try --socket PATH or set {SocketPaths.EnvironmentVariable}";
    }

    /// <summary>Sends one request; returns its (successful) response, throws <see cref="CliException"/> otherwise.</summary>
    /// <param name="allowError">Return an error answer instead of throwing, for commands whose errors carry data (reload).</param>
    public async Task<Response> RequestAsync(Request request, CancellationToken cancellationToken, bool allowError = false)
    {
        await foreach (var response in StreamAsync(request, cancellationToken, allowError))
        {
            // A one-shot command answers with exactly one frame; ignoring a stray "more" keeps us correct against a daemon
            // that streams progress for a command we did not expect to stream.
            if (!response.More)
            {
                return response;
            }
        }
        throw new CliException(ExitCodes.System, $"clusterd at {Address} ended the response without a final frame");
    }

    /// <summary>
    /// Yields every frame of the response; an error frame becomes a <see cref="CliException"/> with <see cref="ExitCodes.No"/>.
    /// </summary>
    public async IAsyncEnumerable<Response> StreamAsync(Request request, [EnumeratorCancellation] CancellationToken cancellationToken,
        bool allowError = false)
    {
        // Marked unhealthy until the final frame arrives: a stream abandoned by Ctrl-C leaves frames in flight for a request
        // nobody waits for any more, so that connection must not be reused.
        Healthy = false;
        var frames = _client.StreamAsync(request, cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                Response response;
                try
                {
                    if (!await frames.MoveNextAsync())
                    {
                        break;
                    }
                    response = frames.Current;
                }
                catch (ProtocolException ex)
                {
                    throw new CliException(ExitCodes.System, $"talking to clusterd at {Address}: {ex.Message}", ex);
                }
                catch (SshFailureException ex)
                {
                    // Its message names the host already, and says what failed better than "talking to clusterd" would.
                    throw new CliException(ExitCodes.System, ex.Message, ex);
                }
                catch (IOException ex)
                {
                    throw new CliException(ExitCodes.System, $"talking to clusterd at {Address}: {ex.Message}", ex);
                }
                if (!response.More)
                {
                    // clusterd closes the connection after some errors (a refused command among them): reconnect then.
                    Healthy = response.Ok || !ErrorCodes.ClosesConnection(response.Error?.Code ?? ErrorCodes.Internal);
                }
                if (!response.Ok && !allowError)
                {
                    throw DaemonError(response);
                }
                yield return response;
            }
        }
        finally
        {
            await frames.DisposeAsync();
        }
    }

    /// <summary>The exception for an error answer; permission_denied gets a message saying how to get access.</summary>
    public static CliException DaemonError(Response response)
    {
        var code = response.Error?.Code ?? ErrorCodes.Internal;
        var message = response.Error?.Message ?? "clusterd reported an error without a message";
        if (code == ErrorCodes.PermissionDenied)
        {
            message = $"permission denied: you are uid {CurrentUid()}; ask an admin to add you to [control] admin_group/read_group ({message})";
        }
        else if (!message.Contains(code, StringComparison.Ordinal))
        {
            message = $"{message} ({code})";
        }
        return new CliException(ExitCodes.No, message);
    }

    private static string CurrentUid() => SocketTrust.OwnUid.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public ValueTask DisposeAsync() => _client.DisposeAsync();
}
