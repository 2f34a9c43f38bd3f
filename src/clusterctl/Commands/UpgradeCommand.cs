using System.CommandLine;
using System.Globalization;
using Clusterd.Protocol.Messages;
using Clusterctl.Connection;
using Clusterctl.Output;

using ProtocolCommands = Clusterd.Protocol.Messages.Commands;

namespace Clusterctl.Commands;

/// <summary>
/// <c>clusterctl upgrade [--binary PATH]</c> → <c>{"command":"upgrade","binary":PATH}</c>. clusterd checks the binary and
/// answers <c>upgrading to VERSION</c>, then re-execs as it, which closes this connection; clusterctl then reconnects
/// until clusterd answers <c>version</c> again, and says which version that is. Exit 0 when the new version answers
/// with the same pid; 1 when the upgrade was refused, did not happen, or clusterd fell back to its old binary.
/// </summary>
internal static class UpgradeCommand
{
    /// <summary>How long clusterd may take to answer again after the exec: its start, and taking over every worker.</summary>
    public static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan s_retryDelay = TimeSpan.FromMilliseconds(100);

    public static Command Create(CliContext cli)
    {
        var binary = new Option<string?>("--binary")
        {
            Description = "The new clusterd binary, a path on clusterd's host (default: clusterd's own path, as it is on disk now)",
        };
        var command = new Command("upgrade", "Replace the running clusterd with a new binary in place: same pid, every worker untouched") { binary };
        command.SetAction((parseResult, cancellationToken) => cli.RunAsync(parseResult, async (connection, ct) =>
        {
            var before = (await connection.RequestAsync(new Request { Command = ProtocolCommands.Version }, ct)).Version
                ?? throw StatusCommand.Missing("version");
            string? handingOver = null;
            try
            {
                await foreach (var frame in connection.StreamAsync(new Request { Command = ProtocolCommands.Upgrade, Binary = parseResult.GetValue(binary) }, ct))
                {
                    handingOver = frame.Message;
                    await cli.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"clusterd {before.Version} (pid {before.Pid}): {frame.Message}"));
                }
            }
            catch (CliException ex) when (handingOver is not null && ex.ExitCode == ExitCodes.System)
            {
                // The exec closed the connection, as it should.
            }
            if (handingOver is null)
            {
                throw new CliException(ExitCodes.System, "clusterd ended the answer without saying whether it upgraded");
            }
            var after = await WaitForAnswerAsync(cli, parseResult, ct);
            if (after.Pid != before.Pid)
            {
                throw new CliException(ExitCodes.No, string.Create(CultureInfo.InvariantCulture,
                    $"clusterd answers as pid {after.Pid}, not {before.Pid}: it was restarted rather than upgraded in place; see its log"));
            }
            var target = handingOver.StartsWith("upgrading to ", StringComparison.Ordinal) ? handingOver["upgrading to ".Length..] : null;
            if (target is not null && after.Version != target && after.Version == before.Version)
            {
                throw new CliException(ExitCodes.No,
                    $"the new binary ({target}) could not take over: clusterd {before.Version} took its state back and runs on: {after.UpgradeFailure ?? "its log says why"}");
            }
            await cli.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"clusterd {after.Version} (pid {after.Pid}): upgraded in place from {before.Version}"));
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    /// <summary>Reconnects until clusterd answers <c>version</c>: connections made during the exec wait in the socket's backlog.</summary>
    private static async Task<VersionInfo> WaitForAnswerAsync(CliContext cli, ParseResult parseResult, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + AnswerTimeout;
        while (true)
        {
            try
            {
                var connection = await cli.ReconnectAsync(parseResult, ct);
                return (await connection.RequestAsync(new Request { Command = ProtocolCommands.Version }, ct)).Version
                    ?? throw StatusCommand.Missing("version");
            }
            catch (CliException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(s_retryDelay, ct); // a client's retry, not a test's wait: clusterd is starting again
            }
        }
    }
}
