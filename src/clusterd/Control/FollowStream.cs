using System.Text.Json.Serialization.Metadata;
using System.Threading.Channels;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;

namespace Clusterd.Control;

/// <summary>
/// Streams items to a following client. Items arrive on the producer's thread (the supervisor loop, the output
/// writer) and go into a bounded queue, so a slow client can never hold the producer up: if it falls
/// <c>capacity</c> items behind, the stream ends with an error telling it so. What has queued up goes out in pages.
/// A follow is not idle, so the idle timeout does not end it; the per-uid connection limits bound how many there are.
/// </summary>
internal static class FollowStream
{
    public static async Task RunAsync<T>(
        ControlConnection connection,
        long requestId,
        int capacity,
        JsonTypeInfo<T> type,
        Action<Action<T>> subscribe,
        Action<Action<T>> unsubscribe,
        Func<IReadOnlyList<T>, Response> frame,
        CancellationToken cancellationToken)
    {
        var queue = Channel.CreateBounded<T>(new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
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
            var batch = new List<T>();
            while (await queue.Reader.WaitToReadAsync(hangup.Token))
            {
                batch.Clear();
                while (batch.Count < capacity && queue.Reader.TryRead(out var item))
                {
                    batch.Add(item);
                }
                await connection.SendPagesAsync(batch, type, frame, moreAfter: true, cancellationToken);
            }
            if (overflowed)
            {
                await connection.SendAsync(Response.Failure(requestId, ErrorCodes.Failed,
                    $"the client fell {capacity} items behind; reconnect with a resume point to continue"), cancellationToken);
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
