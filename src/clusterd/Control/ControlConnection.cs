using System.Net.Sockets;
using System.Text.Json;
using Clusterd.Platform;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;

namespace Clusterd.Control;

/// <summary>One client connection: who it is, and a way to send it response frames (serialised, with a deadline).</summary>
internal sealed class ControlConnection(Socket socket, TimeProvider time) : IDisposable
{
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    public NetworkStream Stream { get; } = new(socket, ownsSocket: true);

    public PeerCredentials Peer { get; set; } = new(0, uint.MaxValue, uint.MaxValue, []);

    public AccessLevel Access { get; set; }

    /// <summary>Sends one frame. A client that does not read for <see cref="ControlServer.FrameTimeout"/> is dropped.</summary>
    public async Task SendAsync(Response response, CancellationToken cancellationToken)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(response, ProtocolJsonContext.Default.Response);
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            using var deadline = new Deadline(ControlServer.FrameTimeout, time, cancellationToken);
            await Framing.WriteAsync(Stream, payload, deadline.Token);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public void Dispose()
    {
        Stream.Dispose();
        _sendLock.Dispose();
    }
}
