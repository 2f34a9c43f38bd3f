using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Clusterd.Supervision;

namespace Clusterd.Control.Commands;

/// <summary>
/// Request <c>{"command":"events","since":120,"follow":true}</c>. Answers the journal's events with <c>seq &gt; since</c>
/// (all it still holds when since is absent), in pages; with follow, further frames as events happen, until the client
/// hangs up. <c>clusterctl events [--since SEQ] [--follow] [--json]</c>.
/// </summary>
internal sealed class EventsCommand(Supervisor supervisor) : IControlCommand
{
    /// <summary>Twice the journal: a follower starting from the whole backlog still has room for as many new events.</summary>
    public const int FollowCapacity = 20_000;

    public string Name => Clusterd.Protocol.Messages.Commands.Events;

    public async Task ExecuteAsync(Request request, ControlConnection connection, CancellationToken cancellationToken)
    {
        var journal = supervisor.Journal;
        var type = ProtocolJsonContext.Default.LifecycleEvent;
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
            await connection.SendPagesAsync(journal.Since(since), type, Frame, moreAfter: false, cancellationToken);
            return;
        }
        Action<LifecycleEvent>? forward = null;
        await FollowStream.RunAsync<LifecycleEvent>(
            connection,
            request.Id,
            FollowCapacity,
            type,
            onItem =>
            {
                forward = onItem;
                journal.Appended += forward;
                foreach (var e in journal.Since(since))
                {
                    onItem(e);
                }
            },
            _ => journal.Appended -= forward,
            Frame,
            cancellationToken);
    }
}
