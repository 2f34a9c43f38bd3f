using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace TestWorker;

/// <summary>One adopted listening socket and the name clusterd gave it in LISTEN_FDNAMES.</summary>
internal sealed record Listener(Socket Socket, int Fd, string Name);

/// <summary>
/// Just enough HTTP/1.1 for tests: GET requests with keep-alive, served on every adopted listener.
/// Hand-rolled so the worker starts fast and depends on nothing but the BCL.
/// </summary>
internal sealed class HttpServer : IDisposable
{
    private const int MaxHeaderBytes = 64 * 1024;
    private const int MaxBodyBytes = 1024 * 1024;

    private static readonly string[] s_envNames =
    [
        "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET", "SYSTEMD_EXEC_PID",
        "CLUSTERD_GROUP", "CLUSTERD_WORKER", "CLUSTERD_GENERATION",
    ];

    private readonly IReadOnlyList<Listener> _listeners;
    private readonly CancellationTokenSource _stopAccepting = new();
    private readonly CancellationTokenSource _closeIdle = new();
    private readonly ConcurrentDictionary<long, Task> _connections = new();
    private readonly List<Task> _acceptLoops = [];
    private long _nextId;

    private readonly bool _serial;

    /// <param name="serial">Serve one connection at a time (accept, serve to the end, accept again), so that
    /// concurrent clients spread over the workers that share one accept queue.</param>
    public HttpServer(IReadOnlyList<Listener> listeners, bool serial)
    {
        _listeners = listeners;
        _serial = serial;
    }

    public void Start()
    {
        foreach (var listener in _listeners)
        {
            _acceptLoops.Add(Task.Run(() => AcceptLoopAsync(listener)));
        }
    }

    /// <summary>Stops accepting, closes idle keep-alive connections and waits for in-flight requests to finish.</summary>
    public async Task StopAsync()
    {
        await _stopAccepting.CancelAsync();
        await Task.WhenAll(_acceptLoops);

        // Closing our copy of an inherited listener only drops this process's reference; siblings keep accepting.
        foreach (var listener in _listeners)
        {
            listener.Socket.Dispose();
        }

        await _closeIdle.CancelAsync();
        await Task.WhenAll(_connections.Values);
    }

    public void Dispose()
    {
        _stopAccepting.Dispose();
        _closeIdle.Dispose();
        foreach (var listener in _listeners)
        {
            listener.Socket.Dispose();
        }
    }

    private async Task AcceptLoopAsync(Listener listener)
    {
        while (!_stopAccepting.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.Socket.AcceptAsync(_stopAccepting.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex)
            {
                // Transient (EMFILE, ECONNABORTED...): back off briefly rather than spin.
                await Console.Error.WriteLineAsync($"testworker: accept on fd {listener.Fd} failed: {ex.SocketErrorCode}");
                await Task.Delay(50);
                continue;
            }

            var id = Interlocked.Increment(ref _nextId);
            if (_serial)
            {
                await ServeAsync(client, listener, id);
                continue;
            }

            var task = Task.Run(() => ServeAsync(client, listener, id));
            _connections[id] = task;
            if (task.IsCompleted)
            {
                _connections.TryRemove(id, out _);
            }
        }
    }

    private async Task ServeAsync(Socket client, Listener listener, long id)
    {
        var buffer = new byte[8192];
        var count = 0;
        try
        {
            var served = 0;
            while (true)
            {
                int headerEnd;
                while ((headerEnd = buffer.AsSpan(0, count).IndexOf("\r\n\r\n"u8)) < 0)
                {
                    if (count == buffer.Length)
                    {
                        if (buffer.Length >= MaxHeaderBytes)
                        {
                            return;
                        }

                        Array.Resize(ref buffer, buffer.Length * 2);
                    }

                    // Only an idle keep-alive connection (served before, nothing of the next request read yet) may be
                    // closed on shutdown. A connection accepted but not yet read carries a request in flight: its client
                    // sent it with the connect, and closing now would fail it.
                    var token = count == 0 && served > 0 ? _closeIdle.Token : CancellationToken.None;
                    var read = await client.ReceiveAsync(buffer.AsMemory(count), SocketFlags.None, token);
                    if (read == 0)
                    {
                        return;
                    }

                    count += read;
                }

                var request = Request.Parse(Encoding.ASCII.GetString(buffer, 0, headerEnd));
                if (request.ContentLength > MaxBodyBytes)
                {
                    return;
                }

                var consumed = headerEnd + 4 + request.ContentLength;

                // Discard any request body; the endpoints ignore it.
                while (count < consumed)
                {
                    if (buffer.Length < consumed)
                    {
                        Array.Resize(ref buffer, consumed);
                    }

                    var read = await client.ReceiveAsync(buffer.AsMemory(count), SocketFlags.None);
                    if (read == 0)
                    {
                        return;
                    }

                    count += read;
                }

                var response = await HandleAsync(request, client, listener);
                var keepAlive = request.KeepAlive && response.ExitCode is null && !_closeIdle.IsCancellationRequested;
                await SendAsync(client, response, keepAlive);
                served++;

                if (response.ExitCode is { } code)
                {
                    client.Shutdown(SocketShutdown.Send);
                    Environment.Exit(code);
                }

                if (!keepAlive)
                {
                    client.Shutdown(SocketShutdown.Send);
                    return;
                }

                buffer.AsSpan(consumed, count - consumed).CopyTo(buffer);
                count -= consumed;
            }
        }
        catch (OperationCanceledException)
        {
            // Idle connection closed because we are stopping.
        }
        catch (SocketException)
        {
            // Peer went away; nothing to report to it.
        }
        finally
        {
            client.Dispose();
            _connections.TryRemove(id, out _);
        }
    }

    private static async Task SendAsync(Socket client, Response response, bool keepAlive)
    {
        var head = string.Create(CultureInfo.InvariantCulture,
            $"HTTP/1.1 {response.Status} {response.Reason}\r\nContent-Type: {response.ContentType}\r\nContent-Length: {response.Body.Length}\r\nConnection: {(keepAlive ? "keep-alive" : "close")}\r\n\r\n");
        var bytes = new byte[Encoding.ASCII.GetByteCount(head) + response.Body.Length];
        var written = Encoding.ASCII.GetBytes(head, bytes);
        response.Body.CopyTo(bytes, written);
        var sent = 0;
        while (sent < bytes.Length)
        {
            sent += await client.SendAsync(bytes.AsMemory(sent), SocketFlags.None);
        }
    }

    private static async Task<Response> HandleAsync(Request request, Socket client, Listener listener)
    {
        switch (request.Path)
        {
            case "/":
                return Response.Json(WriteIdentity);
            case "/listener":
                return Response.Json(w =>
                {
                    w.WriteNumber("pid", Environment.ProcessId);
                    w.WriteNumber("fd", listener.Fd);
                    w.WriteString("name", listener.Name);
                });
            case "/env":
                return Response.Json(w => WriteEnvironment(w, (int)client.SafeHandle.DangerousGetHandle()));
            case "/sleep":
                // A slow in-flight request, so tests can check that a graceful stop waits for it.
                await Task.Delay(request.IntQuery("ms") ?? 1000);
                return Response.Json(WriteIdentity);
            case "/healthz":
                var health = Health.Status(listener.Name);
                return health == 200
                    ? Response.Json(WriteIdentity)
                    : new Response(health, health == 503 ? "Service Unavailable" : "Internal Server Error", "text/plain", "unhealthy\n"u8.ToArray(), null);
            case "/exit":
                var code = request.IntQuery("code") ?? 0;
                return new Response(200, "OK", "text/plain", Encoding.ASCII.GetBytes($"exiting {code}\n"), code);
            default:
                return new Response(404, "Not Found", "text/plain", "not found\n"u8.ToArray(), null);
        }
    }

    private static void WriteIdentity(Utf8JsonWriter w)
    {
        w.WriteNumber("pid", Environment.ProcessId);
        w.WriteString("slot", Environment.GetEnvironmentVariable("CLUSTERD_WORKER"));
        w.WriteString("group", Environment.GetEnvironmentVariable("CLUSTERD_GROUP"));
        w.WriteString("generation", Environment.GetEnvironmentVariable("CLUSTERD_GENERATION"));
    }

    private static void WriteEnvironment(Utf8JsonWriter w, int requestFd)
    {
        foreach (var name in s_envNames)
        {
            w.WriteString(name, Environment.GetEnvironmentVariable(name));
        }

        w.WriteNumber("pid", Environment.ProcessId);
        w.WriteNumber("ppid", NativeMethods.GetPpid());
        w.WriteNumber("pgid", NativeMethods.GetPgid(0));
        w.WriteNumber("uid", NativeMethods.GetUid());
        w.WriteNumber("gid", NativeMethods.GetGid());

        w.WriteStartArray("groups");
        var groupsLine = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Groups:", StringComparison.Ordinal));
        foreach (var group in (groupsLine?["Groups:".Length..] ?? "").Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            w.WriteNumberValue(uint.Parse(group, CultureInfo.InvariantCulture));
        }

        w.WriteEndArray();

        // fd -> readlink target. Skips the directory fd doing the listing and the socket carrying this request,
        // so tests see only what the worker inherited or opened itself.
        w.WriteStartObject("fds");
        var listingDir = $"/proc/{Environment.ProcessId}/fd";
        var fds = new SortedDictionary<int, string>();
        foreach (var entry in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var fd) || fd == requestFd)
            {
                continue;
            }

            string? target;
            try
            {
                target = new FileInfo(entry).LinkTarget;
            }
            catch (IOException)
            {
                continue;
            }

            if (target is not null && target != listingDir)
            {
                fds[fd] = target;
            }
        }

        foreach (var (fd, target) in fds)
        {
            w.WriteString(fd.ToString(CultureInfo.InvariantCulture), target);
        }

        w.WriteEndObject();
        w.WriteString("cwd", Environment.CurrentDirectory);
    }

    private sealed record Response(int Status, string Reason, string ContentType, byte[] Body, int? ExitCode)
    {
        public static Response Json(Action<Utf8JsonWriter> writeProperties)
        {
            var output = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(output))
            {
                writer.WriteStartObject();
                writeProperties(writer);
                writer.WriteEndObject();
            }

            return new Response(200, "OK", "application/json", [.. output.WrittenSpan, (byte)'\n'], null);
        }
    }

    private sealed record Request(string Path, string Query, bool KeepAlive, int ContentLength)
    {
        public static Request Parse(string head)
        {
            var lines = head.Split("\r\n");
            var parts = lines[0].Split(' ');
            var target = parts.Length > 1 ? parts[1] : "/";
            var version = parts.Length > 2 ? parts[2] : "HTTP/1.0";
            var question = target.IndexOf('?', StringComparison.Ordinal);
            var path = question < 0 ? target : target[..question];
            var query = question < 0 ? "" : target[(question + 1)..];

            // HTTP/1.1 defaults to keep-alive, HTTP/1.0 to close.
            var keepAlive = version == "HTTP/1.1";
            var contentLength = 0;
            foreach (var line in lines.Skip(1))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    continue;
                }

                var name = line[..colon].Trim();
                var value = line[(colon + 1)..].Trim();
                if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
                {
                    if (value.Contains("close", StringComparison.OrdinalIgnoreCase))
                    {
                        keepAlive = false;
                    }
                    else if (value.Contains("keep-alive", StringComparison.OrdinalIgnoreCase))
                    {
                        keepAlive = true;
                    }
                }
                else if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    _ = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out contentLength);
                }
            }

            return new Request(path, query, keepAlive, contentLength);
        }

        public int? IntQuery(string key)
        {
            foreach (var pair in Query.Split('&'))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0 && pair[..eq] == key && int.TryParse(pair[(eq + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
                {
                    return v;
                }
            }

            return null;
        }
    }
}
