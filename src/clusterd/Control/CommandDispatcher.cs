using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using ProtocolCommands = Clusterd.Protocol.Messages.Commands;
using Microsoft.Extensions.Logging;

namespace Clusterd.Control;

/// <summary>Checks requests and access, audits mutating commands, and hands each request to its command.</summary>
internal sealed partial class CommandDispatcher
{
    /// <summary>
    /// The longest text field (command, group, signal) a request may carry. Names are short; a long one would only
    /// come back inside error messages and make them long.
    /// </summary>
    public const int MaxFieldLength = 256;

    private readonly Dictionary<string, IControlCommand> _commands;
    private readonly ILogger _logger;

    public CommandDispatcher(IEnumerable<IControlCommand> commands, ILogger logger, ControlAudit audit)
    {
        _commands = commands.ToDictionary(c => c.Name, StringComparer.Ordinal);
        _logger = logger;
        Audit = audit;
    }

    public ControlAudit Audit { get; }

    /// <returns>False when the connection is to be closed: its peer was refused the command.</returns>
    public async Task<bool> DispatchAsync(Request request, ControlConnection connection, CancellationToken cancellationToken)
    {
        if (TooLong(request) is { } field)
        {
            await connection.SendAsync(Response.Failure(request.Id, ErrorCodes.BadRequest,
                $"'{field}' is longer than {MaxFieldLength} characters; no command, group or signal name is that long"), cancellationToken);
            return true;
        }
        if (!_commands.TryGetValue(request.Command, out var command))
        {
            await connection.SendAsync(Response.Failure(request.Id, ErrorCodes.UnknownCommand,
                $"unknown command '{request.Command}'; commands are: {string.Join(", ", _commands.Keys.Order(StringComparer.Ordinal))}"), cancellationToken);
            return true;
        }
        var mutating = !ProtocolCommands.ReadOnly.Contains(command.Name);
        var allowed = connection.Access == AccessLevel.Admin || (connection.Access == AccessLevel.Read && !mutating);
        if (!allowed)
        {
            Audit.Denied(connection.Peer.Uid, connection.Peer.Pid, request.Command);
            var need = mutating ? "[control] admin_group" : "[control] read_group or admin_group";
            await connection.SendAsync(Response.Failure(request.Id, ErrorCodes.PermissionDenied,
                $"permission denied: uid {connection.Peer.Uid} may not run '{request.Command}'; ask an administrator to add you to {need}"), cancellationToken);
            return false;
        }
        if (mutating)
        {
            var arguments = Describe(request);
            Audit.Ran(connection.Peer.Uid, connection.Peer.Pid, request.Command, arguments);
        }
        try
        {
            await command.ExecuteAsync(request, connection, cancellationToken);
        }
        catch (Exception e) when (e is not (OperationCanceledException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException))
        {
            LogCommandCrashed(e, request.Command);
            await connection.SendAsync(Response.Failure(request.Id, ErrorCodes.Internal,
                $"internal error running '{request.Command}': {e.Message}; this probably indicates a bug in clusterd"), cancellationToken);
        }
        return true;
    }

    private static string? TooLong(Request r) =>
        r.Command.Length > MaxFieldLength ? "command"
        : r.Group?.Length > MaxFieldLength ? "group"
        : r.Signal?.Length > MaxFieldLength ? "signal"
        : null;

    private static string Describe(Request r)
    {
        var parts = new List<string>();
        if (r.Group is not null) parts.Add($"group={r.Group}");
        if (r.Slot is not null) parts.Add($"slot={r.Slot}");
        if (r.Count is not null) parts.Add($"count={r.Count}");
        if (r.Signal is not null) parts.Add($"signal={r.Signal}");
        if (r.DryRun) parts.Add("dry_run");
        if (r.MaxSurge is not null) parts.Add($"max_surge={r.MaxSurge}");
        if (r.MaxUnavailable is not null) parts.Add($"max_unavailable={r.MaxUnavailable}");
        return string.Join(' ', parts);
    }

    [LoggerMessage(EventId = 312, Level = LogLevel.Error, Message = "control: {Command} failed unexpectedly; this probably indicates a bug in clusterd")]
    private partial void LogCommandCrashed(Exception e, string command);
}
