using System.Net.Sockets;
using System.Text;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;

namespace Clusterctl.Tests;

/// <summary>
/// The local socket's blocking round trip (<see cref="Clusterd.Protocol.Platform.LocalSocketStream"/>): every way a clusterd can fail
/// it ends in the same exit code and message the async client gave, and Ctrl-C still ends a follow.
/// </summary>
public sealed class DaemonConnectionTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("clusterctl-test-").FullName;
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);

    public DaemonConnectionTests()
    {
        SocketPath = Path.Combine(_directory, "clusterd.sock");
        _listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
    }

    private string SocketPath { get; }

    /// <summary>Accepts one connection, reads one request frame, then lets <paramref name="answer"/> write (or not) and closes.</summary>
    private async Task ServeOnceAsync(Func<NetworkStream, Task> answer)
    {
        _listener.Listen(1);
        using var socket = await _listener.AcceptAsync();
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        Assert.NotNull(await Framing.ReadAsync(stream, CancellationToken.None));
        await answer(stream);
    }

    [Fact]
    public async Task Ping_DaemonClosesWithoutAnswering_ExitsSystemSayingSo()
    {
        var server = ServeOnceAsync(_ => Task.CompletedTask);

        var result = await Cli.RunAsync("ping", "--socket", SocketPath);
        await server;

        Assert.Equal(ExitCodes.System, result.ExitCode);
        Assert.Equal($"clusterctl: talking to clusterd at {SocketPath}: clusterd closed the connection before the response ended\n", result.Err);
    }

    [Fact]
    public async Task Status_DaemonClosesInsideAFrame_ExitsSystemSayingSo()
    {
        var server = ServeOnceAsync(async stream =>
        {
            var frame = Framing.Encode("{\"id\":1,\"ok\":true}"u8);
            await stream.WriteAsync(frame.AsMemory(0, frame.Length - 3));
        });

        var result = await Cli.RunAsync("status", "--socket", SocketPath);
        await server;

        Assert.Equal(ExitCodes.System, result.ExitCode);
        Assert.Equal($"clusterctl: talking to clusterd at {SocketPath}: connection closed inside a frame of 18 bytes (15 received)\n", result.Err);
    }

    [Fact]
    public async Task Status_AnswerOverTheFrameLimit_ExitsSystemWithoutReadingIt()
    {
        var server = ServeOnceAsync(async stream =>
        {
            var header = Framing.Encode("x"u8)[..Framing.HeaderSize];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(Framing.HeaderSize - 4), Framing.MaxPayload + 1);
            await stream.WriteAsync(header);
        });

        var result = await Cli.RunAsync("status", "--socket", SocketPath);
        await server;

        Assert.Equal(ExitCodes.System, result.ExitCode);
        Assert.StartsWith($"clusterctl: talking to clusterd at {SocketPath}: ", result.Err, StringComparison.Ordinal);
        Assert.Contains(Framing.MaxPayload.ToString(System.Globalization.CultureInfo.InvariantCulture), result.Err, StringComparison.Ordinal);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task Ping_BacklogFull_TimesOutAfterTimeout()
    {
        // A listener that never accepts, its one-connection backlog taken: connect() waits, as on a wedged clusterd.
        _listener.Listen(0);
        using var first = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await first.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath));

        var result = await Cli.RunAsync("ping", "--socket", SocketPath, "--timeout", "200ms");

        Assert.Equal(ExitCodes.System, result.ExitCode);
        Assert.Equal($"clusterctl: cannot connect to clusterd at {SocketPath}: timed out after 200ms; is clusterd running? try --socket PATH or --timeout\n",
            result.Err);
    }

    [Fact]
    public async Task EventsFollow_Interrupted_StopsTheBlockedReadAndExitsOk()
    {
        var sent = new TaskCompletionSource();
        var server = ServeOnceAsync(async stream =>
        {
            var frame = new Response { Id = 1, Ok = true, More = true, Events = [] };
            await Framing.WriteAsync(stream, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(frame, ProtocolJsonContext.Default.Response), CancellationToken.None);
            sent.SetResult();
            // Then nothing, and no close: only the interrupt can end the client's read.
            Assert.Equal(0, await stream.ReadAsync(new byte[1]));
        });
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        await using var cli = new CliContext(stdout, stderr, () => TextReader.Null, stdoutIsTerminal: false, stdinIsTerminal: false);

        var run = Cli.OffTheTestThread(() => Program.RunAsync(["events", "--follow", "--socket", SocketPath], cli, CancellationToken.None));
        await sent.Task;
        // The client may not have reached its read yet: interrupt until something was running to stop.
        while (!cli.Interrupt())
        {
            await Task.Yield();
        }

        Assert.Equal(ExitCodes.Ok, await run);
        await server;
        Assert.Equal("", stderr.ToString());
    }

    public void Dispose()
    {
        _listener.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
