using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Clusterd.Protocol;

namespace TestWorker;

/// <summary>
/// <c>--hold-connections N --control-socket PATH [--control-request JSON]</c>: not a worker but a control client that
/// opens N connections, one after the other, sends the request on each (default ping) and reads the first answer.
/// Those clusterd admits stay open until stdin closes; those it refuses are watched to see that clusterd closes them.
/// Prints one line, <c>held=H refused=R closed=C codes=CODE:N,...</c>. Run through setpriv, they are another user's.
/// </summary>
internal static class ControlConnections
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    public static async Task<int> HoldAsync(string socketPath, int count, string request)
    {
        var payload = Encoding.UTF8.GetBytes(request);
        var held = new List<NetworkStream>();
        var codes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var refused = 0;
        var closed = 0;
        for (var i = 0; i < count; i++)
        {
            using var cts = new CancellationTokenSource(s_timeout);
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cts.Token);
            var stream = new NetworkStream(socket, ownsSocket: true);
            try
            {
                await Framing.WriteAsync(stream, payload, cts.Token);
            }
            catch (IOException)
            {
                // Refused at once: the answer is queued on our side all the same.
            }
            var frame = await Framing.ReadAsync(stream, cts.Token) ?? throw new IOException("clusterd closed a connection without answering");
            using var answer = JsonDocument.Parse(frame);
            if (answer.RootElement.GetProperty("ok").GetBoolean())
            {
                held.Add(stream);
                continue;
            }
            refused++;
            var code = answer.RootElement.GetProperty("error").GetProperty("code").GetString() ?? "?";
            codes[code] = codes.GetValueOrDefault(code) + 1;
            closed += await ClosedAsync(stream, cts.Token) ? 1 : 0;
            await stream.DisposeAsync();
        }
        Console.Out.WriteLine($"held={held.Count} refused={refused} closed={closed} codes={string.Join(',', codes.Select(c => $"{c.Key}:{c.Value}"))}");
        await Console.In.ReadToEndAsync();
        foreach (var stream in held)
        {
            await stream.DisposeAsync();
        }
        return 0;
    }

    /// <summary>True once the server ends the connection (an end of stream, or a reset after input it did not read).</summary>
    private static async Task<bool> ClosedAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        try
        {
            return await stream.ReadAsync(new byte[1], cancellationToken) == 0;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
