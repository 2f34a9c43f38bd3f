using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Clusterd.Protocol.Messages;

namespace Clusterd.Protocol;

/// <summary>
/// A connection to clusterd's control protocol: its socket, or any stream that carries the same bytes (clusterctl's
/// SSH transport). One request at a time; used by clusterctl and the tests.
/// </summary>
public sealed class ControlClient : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly FrameReader _frames;
    private long _nextId;

    private ControlClient(Stream stream)
    {
        _stream = stream;
        _frames = new FrameReader(stream);
    }

    /// <summary>
    /// Connects, once <see cref="SocketTrust"/> has found the socket and its listener to be root's or this user's. Async,
    /// with System.Net.Sockets: for the tests and long-lived clients. clusterctl, a short process, connects with
    /// <see cref="Platform.LocalSocketStream"/> instead (ADR 0009).
    /// </summary>
    /// <exception cref="UntrustedSocketException">Someone else's socket, or a link, is at the path.</exception>
    public static async Task<ControlClient> ConnectAsync(string path, CancellationToken cancellationToken) =>
        new(new NetworkStream(await ConnectSocketAsync(path, cancellationToken), ownsSocket: true));

    /// <summary>A client that speaks over <paramref name="stream"/> and disposes it with itself.</summary>
    public static ControlClient Over(Stream stream) => new(stream);

    private static async Task<Socket> ConnectSocketAsync(string path, CancellationToken cancellationToken)
    {
        SocketTrust.CheckFile(path);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
            SocketTrust.CheckPeer(socket);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends the request and returns its one response (or the first, for a streaming request).</summary>
    public async Task<Response> RequestAsync(Request request, CancellationToken cancellationToken)
    {
        await foreach (var response in StreamAsync(request, cancellationToken))
        {
            return response;
        }
        throw new ProtocolException(ErrorCodes.BadFrame, "clusterd closed the connection without answering");
    }

    /// <summary>Sends the request and yields every response frame until one without <c>more</c>.</summary>
    public async IAsyncEnumerable<Response> StreamAsync(Request request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var id = ++_nextId;
        var payload = RequestWriter.Write(request with { Id = id });
        IOException? unsent = null;
        try
        {
            await Framing.WriteAsync(_stream, payload, cancellationToken);
        }
        catch (IOException e)
        {
            // clusterd refuses a connection (too many, or a stranger's) with an error frame and closes it at once, so
            // the request can meet a closed socket; the answer that says why is waiting to be read all the same.
            unsent = e;
        }
        while (true)
        {
            ReadOnlyMemory<byte>? frame;
            try
            {
                frame = await _frames.ReadAsync(cancellationToken);
            }
            catch (IOException) when (unsent is not null)
            {
                throw unsent;
            }
            if (frame is not { } answer)
            {
                throw unsent as Exception
                    ?? new ProtocolException(ErrorCodes.BadFrame, "clusterd closed the connection before the response ended");
            }
            var response = ResponseReader.Read(answer.Span);
            yield return response;
            if (!response.More)
            {
                yield break;
            }
        }
    }

    public ValueTask DisposeAsync() => _stream.DisposeAsync();
}
