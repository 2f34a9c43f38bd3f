using System.Text.Json;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;

namespace Clusterctl.Output;

/// <summary>How commands that only change something report it: the daemon's message, or the whole frame with --json.</summary>
internal static class ResultWriter
{
    public static async Task WriteAsync(CliContext cli, bool json, Response response, string fallback)
    {
        if (json)
        {
            await cli.Out.WriteLineAsync(JsonSerializer.Serialize(response, ProtocolJsonContext.Default.Response));
            return;
        }
        await cli.Out.WriteLineAsync(string.IsNullOrEmpty(response.Message) ? fallback : response.Message);
    }
}
