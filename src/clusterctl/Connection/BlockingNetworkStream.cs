using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Clusterctl.Connection;

/// <summary>
/// The control socket read and written with blocking calls, also through the async methods <see cref="Clusterd.Protocol.ControlClient"/>
/// uses. An async operation on a .NET socket makes it non-blocking and starts the runtime's socket engine (an epoll
/// thread) and the thread pool that completes its waits: a cost paid again by every clusterctl process for one round
/// trip, and the largest part of what <c>ping</c> took over <c>--version</c> (BENCHMARKS.md). Cancelling a call shuts
/// the socket down, which wakes the blocked receive, so Ctrl-C still ends a <c>--follow</c> or a long restart.
/// </summary>
internal sealed class BlockingNetworkStream(Socket socket) : NetworkStream(socket, ownsSocket: true)
{
    // Through the array overloads where there is an array: NetworkStream's span overloads, called on a derived type,
    // fall back to Stream's, which rent a pool array as long as the span and copy through it (for a 64 KiB status
    // page, 64 KiB more of fresh memory: ~30 page faults).
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Blocking(
            () => MemoryMarshal.TryGetArray(buffer, out ArraySegment<byte> array) ? Read(array.Array!, array.Offset, array.Count) : Read(buffer.Span),
            cancellationToken));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Blocking(() => Read(buffer, offset, count), cancellationToken));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Blocking(() =>
        {
            if (MemoryMarshal.TryGetArray(buffer, out var array))
            {
                Write(array.Array!, array.Offset, array.Count);
            }
            else
            {
                Write(buffer.Span);
            }
            return 0;
        }, cancellationToken);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private T Blocking<T>(Func<T> call, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var wake = cancellationToken.UnsafeRegister(static stream => ((BlockingNetworkStream)stream!).Wake(), this);
        try
        {
            var result = call();
            cancellationToken.ThrowIfCancellationRequested();
            return result;
        }
        catch (IOException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
    }

    private void Wake()
    {
        try
        {
            Socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Not connected any more: nothing is blocked on it.
        }
        catch (ObjectDisposedException)
        {
            // Closed while the cancellation ran: nothing is blocked on it.
        }
    }
}
