using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Clusterd.Supervision;

namespace Clusterd.Control.Commands;

/// <summary>
/// Request <c>{"command":"events","since":120,"follow":true}</c>. Answers the journal's events with <c>seq &gt; since</c>
/// (all it still holds when since is absent); with follow, further frames as events happen, until the client hangs up.
/// <c>clusterctl events [--since SEQ] [--follow] [--json]</c>.
/// </summary>
internal sealed class EventsCommand(Supervisor supervisor) : IControlCommand
{
    private const int MaxPerFrame = 2000;

    public string Name => Clusterd.Protocol.Messages.Commands.Events;

    public async Task ExecuteAsync(Request request, ControlConnection connection, CancellationToken cancellationToken)
    {
        var journal = supervisor.Journal;
        var since = request.Since ?? 0;
        // Subscribe before reading the backlog, and drop duplicates by seq, so no event falls in between.
        var last = since;
        Response Frame(IReadOnlyList<LifecycleEvent> events)
        {
            var fresh = events.Where(e => e.Seq > last).ToArray();
            if (fresh.Length > 0)
            {
                last = fresh[^1].Seq;
            }
            return Response.Success(request.Id) with { Events = fresh };
        }
        if (!request.Follow)
        {
            var all = journal.Since(since);
            for (var i = 0; i < all.Count; i += MaxPerFrame)
            {
                var chunk = all.Skip(i).Take(MaxPerFrame).ToArray();
                await connection.SendAsync(Frame(chunk) with { More = i + MaxPerFrame < all.Count }, cancellationToken);
            }
            if (all.Count == 0)
            {
                await connection.SendAsync(Frame([]), cancellationToken);
            }
            return;
        }
        Action<LifecycleEvent>? forward = null;
        await FollowStream.RunAsync<LifecycleEvent>(
            connection,
            request.Id,
            onItem =>
            {
                forward = onItem;
                journal.Appended += forward;
                foreach (var chunk in journal.Since(since).Chunk(MaxPerFrame))
                {
                    foreach (var e in chunk)
                    {
                        onItem(e);
                    }
                }
            },
            _ => journal.Appended -= forward,
            Frame,
            cancellationToken);
    }
}
