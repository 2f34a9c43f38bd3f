using System.Reflection;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Clusterd.Supervision;

namespace Clusterd.Control.Commands;

/// <summary>
/// Request <c>{"command":"version"}</c>; response <c>{"version":{"version":"0.1.0","protocol":1,"pid":812,"started_at":...}}</c>,
/// with <c>upgrade_failure</c> when the last in-place upgrade fell back to this binary (docs/adr/0008).
/// <c>clusterctl version</c>.
/// </summary>
internal sealed class VersionCommand(Supervisor supervisor) : IControlCommand
{
    public static string Version { get; } =
        typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public string Name => Clusterd.Protocol.Messages.Commands.Version;

    public Task ExecuteAsync(Request request, ControlConnection connection, CancellationToken cancellationToken) =>
        connection.SendAsync(Response.Success(request.Id) with
        {
            Version = new VersionInfo(Version, ProtocolVersion.Current, Environment.ProcessId, supervisor.StartedAt, supervisor.UpgradeFailure),
        }, cancellationToken);
}
