using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Clusterctl.Output;

using ProtocolCommands = Clusterd.Protocol.Messages.Commands;

namespace Clusterctl.Commands;

/// <summary>ping and version: the two questions to ask first when something seems off.</summary>
internal static class InfoCommands
{
    /// <summary><c>clusterctl ping</c> → <c>{"command":"ping"}</c> → "pong".</summary>
    public static Command Ping(CliContext cli)
    {
        var command = new Command("ping", "Check that clusterd answers on its socket, and how fast");
        command.SetAction((parseResult, cancellationToken) => cli.RunOnEachAsync(parseResult, async (output, connection, ct) =>
        {
            var started = Stopwatch.GetTimestamp();
            var response = await connection.RequestAsync(new Request { Command = ProtocolCommands.Ping }, ct);
            var elapsed = Stopwatch.GetElapsedTime(started);
            if (parseResult.GetValue(GlobalOptions.Json))
            {
                await ResultWriter.WriteAsync(output, json: true, response, "");
            }
            else
            {
                await output.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{response.Message ?? "pong"} from {connection.Address} in {elapsed.TotalMilliseconds:0.0}ms"));
            }
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    /// <summary><c>clusterctl version</c> → <c>{"command":"version"}</c> → <see cref="Response.Version"/>.</summary>
    public static Command Version(CliContext cli)
    {
        var command = new Command("version", "Print clusterctl's version and the running clusterd's version, protocol, pid and start time");
        command.SetAction((parseResult, cancellationToken) => cli.RunOnEachAsync(parseResult, async (output, connection, ct) =>
        {
            var response = await connection.RequestAsync(new Request { Command = ProtocolCommands.Version }, ct);
            var daemon = response.Version ?? throw StatusCommand.Missing("version");
            if (parseResult.GetValue(GlobalOptions.Json))
            {
                await output.Out.WriteLineAsync(VersionJson(daemon));
                return ExitCodes.Ok;
            }
            await output.Out.WriteLineAsync($"clusterctl {ClientVersion} (protocol {ProtocolVersion.Current})");
            await output.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"clusterd   {daemon.Version} (protocol {daemon.Protocol}, pid {daemon.Pid}, started {Formats.Time(daemon.StartedAt)})"));
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    /// <summary>The informational version without the "+commit" suffix the SDK appends.</summary>
    internal static string ClientVersion
    {
        get
        {
            var version = typeof(InfoCommands).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
            var plus = version.IndexOf('+', StringComparison.Ordinal);
            return plus < 0 ? version : version[..plus];
        }
    }

    /// <summary><c>{"client":{"version":"0.1.0","protocol":1},"daemon":{...VersionInfo...}}</c></summary>
    private static string VersionJson(VersionInfo daemon)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("client");
            writer.WriteString("version", ClientVersion);
            writer.WriteNumber("protocol", ProtocolVersion.Current);
            writer.WriteEndObject();
            writer.WritePropertyName("daemon");
            JsonSerializer.Serialize(writer, daemon, ProtocolJsonContext.Default.VersionInfo);
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
