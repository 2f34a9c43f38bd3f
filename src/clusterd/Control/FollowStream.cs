using System.Threading.Channels;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;

namespace Clusterd.Control;

/// <summary>
/// Streams items to a following client. Items arrive on the producer's thread (the supervisor loop, the output
/// writer) and go into a bounded queue, so a slow client can never hold the producer up: if it falls
/// <see cref="Capacity"/> items behind, the stream ends with an error telling it so.
/// </summary>
internal static class FollowStream
{
    public const int Capacity = 10_000;

    private const int MaxBatch = 500;

    public static async Task RunAsync<T>(
        ControlConnection connection,
        long requestId,
        Action<Action<T>> subscribe,
        Action<Action<T>> unsubscribe,
        Func<IReadOnlyList<T>, Response> frame,
        CancellationToken cancellationToken)
    {
        var queue = Channel.CreateBounded<T>(new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
        var overflowed = false;
        void OnItem(T item)
        {
            if (!queue.Writer.TryWrite(item))
            {
                overflowed = true;
                queue.Writer.TryComplete();
            }
        }
        subscribe(OnItem);
        try
        {
            // The client sends nothing while following; a read that completes means it hung up.
            using var hangup = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _ = WatchForHangupAsync(connection, hangup);
            var batch = new List<T>(MaxBatch);
            while (await queue.Reader.WaitToReadAsync(hangup.Token))
            {
                batch.Clear();
                while (batch.Count < MaxBatch && queue.Reader.TryRead(out var item))
                {
                    batch.Add(item);
                }
                await connection.SendAsync(frame(batch) with { More = true }, cancellationToken);
            }
            if (overflowed)
            {
                await connection.SendAsync(Response.Failure(requestId, ErrorCodes.Failed,
                    $"the client fell {Capacity} items behind; reconnect with a resume point to continue"), cancellationToken);
            }
        }
        finally
        {
            unsubscribe(OnItem);
        }
    }

    private static async Task WatchForHangupAsync(ControlConnection connection, CancellationTokenSource hangup)
    {
        try
        {
            var buffer = new byte[1];
            await connection.Stream.ReadAtLeastAsync(buffer, 1, throwOnEndOfStream: false, hangup.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
        try
        {
            await hangup.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
