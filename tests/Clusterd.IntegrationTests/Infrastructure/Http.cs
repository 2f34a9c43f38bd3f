using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Clusterd.IntegrationTests.Infrastructure;

/// <summary>
/// HTTP/1.1 on a fresh connection per request (Connection: close), so each request is a new accept and
/// the kernel chooses the worker anew. Every call has a deadline.
/// </summary>
internal static class Http
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    public static async Task<(int Status, string Body, string Head)> GetAsync(EndPoint endPoint, string path = "/", TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        using var socket = endPoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endPoint, cts.Token);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"), cts.Token);
        var response = new MemoryStream();
        var buffer = new byte[8192];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, cts.Token)) > 0)
        {
            response.Write(buffer, 0, n);
        }
        var text = Encoding.UTF8.GetString(response.ToArray());
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (split < 0)
        {
            throw new IOException($"incomplete HTTP response: '{text}'");
        }
        var head = text[..split];
        var status = int.Parse(head.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var body = text[(split + 4)..];
        if (head.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase))
        {
            body = Unchunk(body);
        }
        return (status, body, head);
    }

    private static string Unchunk(string chunked)
    {
        var body = new StringBuilder();
        var at = 0;
        while (true)
        {
            var lineEnd = chunked.IndexOf("\r\n", at, StringComparison.Ordinal);
            var size = Convert.ToInt32(chunked[at..lineEnd], 16);
            if (size == 0)
            {
                return body.ToString();
            }
            body.Append(chunked, lineEnd + 2, size);
            at = lineEnd + 2 + size + 2;
        }
    }

    public static Task<(int Status, string Body, string Head)> GetAsync(int port, string path = "/") =>
        GetAsync(new IPEndPoint(IPAddress.Loopback, port), path);

    public static async Task<JsonElement> GetJsonAsync(int port, string path = "/")
    {
        var (status, body, _) = await GetAsync(port, path);
        Assert.Equal(200, status);
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
