using System.Text.Json;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;

using ProtocolCommands = Clusterd.Protocol.Messages.Commands;

namespace Clusterctl.Tests;

public sealed class DialStdioCommandTests
{
    private static async Task<(int ExitCode, byte[] Stdout, string Stderr)> DialAsync(byte[] stdin, params string[] args)
    {
        var stdout = new MemoryStream();
        using var stderr = new StringWriter { NewLine = "\n" };
        await using var cli = new CliContext(TextWriter.Null, stderr, () => TextReader.Null, stdoutIsTerminal: false, stdinIsTerminal: false,
            binaryStdio: () => (new MemoryStream(stdin), stdout));
        var code = await Cli.OffTheTestThread(() => Program.RunAsync(["dial-stdio", .. args], cli, CancellationToken.None));
        return (code, stdout.ToArray(), stderr.ToString());
    }

    [Fact]
    public async Task DialStdio_RelaysFramesBothWaysUntilClusterdCloses()
    {
        await using var daemon = new FakeDaemon(request => new Response { Ok = true, Message = $"pong {request.Id}" });
        var ping = Framing.Encode(JsonSerializer.SerializeToUtf8Bytes(new Request { Id = 7, Command = ProtocolCommands.Ping }, ProtocolJsonContext.Default.Request));
        var version = Framing.Encode(JsonSerializer.SerializeToUtf8Bytes(new Request { Id = 8, Command = ProtocolCommands.Version }, ProtocolJsonContext.Default.Request));

        var (code, stdout, stderr) = await DialAsync([.. ping, .. version], "--socket", daemon.SocketPath);

        Assert.True(code == ExitCodes.Ok, stderr);
        using var answers = new MemoryStream(stdout);
        var first = JsonSerializer.Deserialize((await Framing.ReadAsync(answers, CancellationToken.None))!, ProtocolJsonContext.Default.Response)!;
        var second = JsonSerializer.Deserialize((await Framing.ReadAsync(answers, CancellationToken.None))!, ProtocolJsonContext.Default.Response)!;
        Assert.Equal("pong 7", first.Message);
        Assert.Equal("pong 8", second.Message);
        Assert.Null(await Framing.ReadAsync(answers, CancellationToken.None));
        Assert.Equal([ProtocolCommands.Ping, ProtocolCommands.Version], daemon.Requests.Select(r => r.Command));
    }

    [Fact]
    public async Task DialStdio_NoSocket_ExitsSystemNamingIt()
    {
        var path = Path.Combine(Path.GetTempPath(), $"clusterctl-missing-{Guid.NewGuid():N}.sock");

        var (code, stdout, stderr) = await DialAsync([], "--socket", path);

        Assert.Equal(ExitCodes.System, code);
        Assert.Empty(stdout);
        Assert.Contains($"cannot connect to clusterd at {path}", stderr, StringComparison.Ordinal);
    }
}
