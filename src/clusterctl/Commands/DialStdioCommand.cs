using System.CommandLine;
using Clusterctl.Connection;
using Clusterd.Protocol.Platform;

namespace Clusterctl.Commands;

/// <summary>
/// <c>clusterctl dial-stdio</c>: relays bytes between stdin/stdout and the control socket, as <c>docker system
/// dial-stdio</c> does, so that <c>clusterctl --host ssh://...</c> on another machine can speak the protocol through
/// an SSH session. It never parses a frame: clusterd sees this process's own credentials (the SSH login's uid) and
/// gives that user's role, exactly as for a local clusterctl.
/// </summary>
internal static class DialStdioCommand
{
    public static Command Create(CliContext cli)
    {
        var command = new Command("dial-stdio", "Relay stdin/stdout to clusterd's control socket (what --host runs on the far side over SSH)");
        command.SetAction((parseResult, cancellationToken) => cli.GuardAsync(async () =>
        {
            var timeout = parseResult.GetValue(GlobalOptions.Timeout) ?? GlobalOptions.DefaultTimeout;
            using var socket = DaemonConnection.ConnectSocket(cli.ResolveSocket(parseResult), timeout);
            var (input, output) = cli.OpenBinaryStdio();
            await using (input)
            await using (output)
            {
                await RelayAsync(socket, input, output, cancellationToken);
            }
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    /// <summary>
    /// Copies both ways until clusterd closes the connection. The end of stdin is passed on as a half-close, so clusterd
    /// still answers what it has read; the answers end the relay, which does not wait for a stdin that may never end.
    /// Both directions block (the socket and stdin), so stdin is copied on a thread of its own.
    /// </summary>
    internal static async Task RelayAsync(LocalSocketStream socket, Stream input, Stream output, CancellationToken cancellationToken)
    {
        var upstream = Task.Run(() => Upstream(socket, input), CancellationToken.None);
        try
        {
            await socket.CopyToAsync(output, cancellationToken);
            await output.FlushAsync(cancellationToken);
        }
        catch (IOException ex)
        {
            throw new CliException(ExitCodes.System, $"dial-stdio: {ex.Message}", ex);
        }
        if (upstream.IsCompleted)
        {
            await upstream;
        }
    }

    private static void Upstream(LocalSocketStream socket, Stream input)
    {
        try
        {
            input.CopyTo(socket);
            socket.ShutdownSend();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // clusterd closed the connection first (a refused command closes it): the downstream copy ends the relay.
        }
    }
}
