using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using Clusterd.Config;

namespace Clusterd.Supervision.Health;

/// <summary>
/// One active health check of one worker, on its own health socket (so it reaches that worker and no other): an HTTP
/// GET whose status is 2xx or 3xx, or a TCP connect, within the check's timeout. Runs off the supervisor loop.
/// </summary>
internal static class HealthProbe
{
    /// <summary>Enough for the status line of any answer; the rest is not read.</summary>
    private const int StatusLineBytes = 512;

    /// <returns>Null when the check passed, else why not.</returns>
    public static async Task<string?> RunAsync(HealthCheckConfig check, IPEndPoint endpoint, TimeProvider time, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(check.Timeout, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(endpoint, either.Token);
            return check.Kind == HealthCheckKind.Http ? await GetAsync(socket, check.Path!, either.Token) : null;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return $"no answer within {check.Timeout.TotalSeconds:0.###}s";
        }
        catch (SocketException e)
        {
            return e.Message;
        }
    }

    private static async Task<string?> GetAsync(Socket socket, string path, CancellationToken cancellationToken)
    {
        var request = System.Text.Encoding.ASCII.GetBytes(
            $"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: clusterd-health\r\nConnection: close\r\n\r\n");
        await socket.SendAsync(request, SocketFlags.None, cancellationToken);
        var buffer = new byte[StatusLineBytes];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                break;
            }
            length += read;
            if (buffer.AsSpan(0, length).IndexOf("\r\n"u8) >= 0)
            {
                break;
            }
        }
        return Judge(buffer.AsSpan(0, length));
    }

    /// <summary>Null when <paramref name="response"/> starts with a 2xx or 3xx status line, else why not. Internal for tests.</summary>
    internal static string? Judge(ReadOnlySpan<byte> response)
    {
        // "HTTP/1.1 200 OK"
        if (response.Length < 12 || !response.StartsWith("HTTP/1."u8) || response[8] != (byte)' '
            || !Utf8Parser.TryParse(response.Slice(9, 3), out int status, out var used) || used != 3)
        {
            return response.Length == 0 ? "the connection closed without an answer" : "not an HTTP answer";
        }
        return status is >= 200 and < 400 ? null : $"HTTP {status}";
    }
}
