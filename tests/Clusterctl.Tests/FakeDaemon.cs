using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text.Json;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;

namespace Clusterctl.Tests;

/// <summary>
/// A stand-in for clusterd's control socket: a real Unix socket in a temp directory, speaking the real framing, that
/// records every request and answers each with the frames a test scripts. Until the daemon side lands this is how
/// clusterctl is tested end to end; afterwards it still pins clusterctl's half of the contract.
/// </summary>
internal sealed class FakeDaemon : IAsyncDisposable
{
    private readonly string _directory;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly Func<Request, IAsyncEnumerable<Response>> _answer;

    public FakeDaemon(Func<Request, IAsyncEnumerable<Response>> answer)
    {
        _answer = answer;
        _directory = Directory.CreateTempSubdirectory("clusterctl-test-").FullName;
        SocketPath = Path.Combine(_directory, "clusterd.sock");
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        _listener.Listen(16);
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>A daemon that answers every request with one frame.</summary>
    public FakeDaemon(Func<Request, Response> answer)
        : this(request => One(answer(request)))
    {
    }

    public string SocketPath { get; }

    public ConcurrentQueue<Request> Requests { get; } = new();

    public int Connections;

    public Request Single()
    {
        Assert.Single(Requests);
        return Requests.First();
    }

    private static async IAsyncEnumerable<Response> One(Response response)
    {
        await Task.Yield();
        yield return response;
    }

    private async Task AcceptLoopAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptAsync(_stop.Token);
                Interlocked.Increment(ref Connections);
                connections.Add(ServeAsync(socket));
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException)
        {
        }
        await Task.WhenAll(connections);
    }

    private async Task ServeAsync(Socket socket)
    {
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            while (await Framing.ReadAsync(stream, _stop.Token) is { } payload)
            {
                var request = JsonSerializer.Deserialize(payload, ProtocolJsonContext.Default.Request)!;
                Requests.Enqueue(request);
                await foreach (var response in _answer(request).WithCancellation(_stop.Token))
                {
                    var bytes = JsonSerializer.SerializeToUtf8Bytes(response with { Id = request.Id }, ProtocolJsonContext.Default.Response);
                    await Framing.WriteAsync(stream, bytes, _stop.Token);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ProtocolException)
        {
            // The client went away or the test is over: either way this connection is done.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _acceptLoop;
        _stop.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
