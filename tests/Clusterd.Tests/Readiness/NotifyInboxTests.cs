using Clusterd.Readiness;
using Microsoft.Extensions.Time.Testing;

namespace Clusterd.Tests.Readiness;

public sealed class NotifyInboxTests
{
    private static readonly NotifyMessage s_ready = new(Ready: true, false, false, false, null);
    private static readonly NotifyMessage s_ping = new(false, false, WatchdogPing: true, false, null);

    private readonly FakeTimeProvider _time = new();
    private readonly ListLogger _log = new();
    private readonly Dictionary<int, int> _sessions = [];
    private readonly List<int> _sessionLookups = [];
    private int _wakes;

    private NotifyInbox NewInbox(int capacity = 8, int turnBudget = 4) =>
        new("web", _log, _time, pid =>
        {
            _sessionLookups.Add(pid);
            return _sessions.GetValueOrDefault(pid);
        }, () => _wakes++, capacity, turnBudget);

    private static NotifyMessage Status(string text) => new(false, false, false, false, text);

    /// <summary>Drains once; returns what was handed over (as from workers, or as from strangers when <paramref name="fromWorkers"/> is false).</summary>
    private static List<NotifySender> DrainAll(NotifyInbox inbox, bool fromWorkers = true)
    {
        var delivered = new List<NotifySender>();
        inbox.Drain(s =>
        {
            delivered.Add(s);
            return fromWorkers;
        });
        return delivered;
    }

    [Fact]
    public void TryOffer_SeveralSendersBeforeTheLoopRuns_WakesTheLoopOnce()
    {
        var inbox = NewInbox();

        Assert.True(inbox.TryOffer(10, s_ready));
        Assert.True(inbox.TryOffer(11, s_ready));
        Assert.True(inbox.TryOffer(12, s_ready));

        Assert.Equal(1, _wakes);
    }

    [Fact]
    public void TryOffer_FloodFromOneSender_TakesOnePlaceAndKeepsTheLatestOfEachKind()
    {
        var inbox = NewInbox();
        for (var i = 0; i < 500; i++)
        {
            inbox.TryOffer(10, Status($"busy {i}"));
        }
        inbox.TryOffer(10, s_ready);
        for (var i = 0; i < 500; i++)
        {
            inbox.TryOffer(10, s_ping);
        }

        var delivered = Assert.Single(DrainAll(inbox));

        Assert.Equal(10, delivered.Pid);
        Assert.Equal(new NotifyMessage(Ready: true, false, WatchdogPing: true, false, "busy 499"), delivered.Message);
        Assert.Equal(1001, delivered.Datagrams);
        Assert.Equal(1, inbox.Peak);
    }

    [Fact]
    public void TryOffer_NewEntry_AsksForTheSessionOnce()
    {
        _sessions[20] = 7;
        var inbox = NewInbox();

        inbox.TryOffer(20, s_ready);
        inbox.TryOffer(20, s_ping);
        var delivered = Assert.Single(DrainAll(inbox));

        Assert.Equal(7, delivered.Session);
        Assert.Equal([20], _sessionLookups);
    }

    [Fact]
    public void Drain_MoreSendersThanTheTurnBudget_DeliversTheBudgetInArrivalOrderAndWakesAgain()
    {
        var inbox = NewInbox(capacity: 8, turnBudget: 3);
        foreach (var pid in new[] { 5, 3, 9, 1, 7 })
        {
            inbox.TryOffer(pid, s_ready);
        }

        var first = DrainAll(inbox);
        var wakesAfterFirst = _wakes;
        var second = DrainAll(inbox);

        Assert.Equal([5, 3, 9], first.Select(s => s.Pid));
        Assert.Equal(2, wakesAfterFirst); // the first offer, then the re-queued turn
        Assert.Equal([1, 7], second.Select(s => s.Pid));
        Assert.Equal(2, _wakes); // nothing left: no further wake-up
    }

    [Fact]
    public void TryOffer_AfterTheInboxWasEmptied_WakesTheLoopAgain()
    {
        var inbox = NewInbox();
        inbox.TryOffer(1, s_ready);
        DrainAll(inbox);

        inbox.TryOffer(1, s_ping);

        Assert.Equal(2, _wakes);
    }

    [Fact]
    public void TryOffer_CapacitySendersWaiting_RefusesANewSenderButStillFoldsAWaitingOne()
    {
        var inbox = NewInbox(capacity: 2);
        inbox.TryOffer(1, s_ready);
        inbox.TryOffer(2, s_ready);

        Assert.False(inbox.TryOffer(3, s_ready));
        Assert.True(inbox.TryOffer(1, s_ping));
        Assert.False(inbox.WaitForRoomAsync(CancellationToken.None).IsCompleted);
        Assert.Equal(2, inbox.Peak);
    }

    [Fact]
    public async Task WaitForRoomAsync_Full_CompletesOnceTheLoopTakesASender()
    {
        var inbox = NewInbox(capacity: 2, turnBudget: 1);
        inbox.TryOffer(1, s_ready);
        inbox.TryOffer(2, s_ready);
        var room = inbox.WaitForRoomAsync(CancellationToken.None);

        DrainAll(inbox);
        await room.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(inbox.TryOffer(3, s_ready));
        Assert.Equal(2, inbox.Peak);
    }

    [Fact]
    public void Drain_Stranger_IsLoggedOncePerPid()
    {
        var inbox = NewInbox();
        _sessions[50] = 49;

        inbox.TryOffer(50, s_ready);
        DrainAll(inbox, fromWorkers: false);
        inbox.TryOffer(50, s_ready);
        DrainAll(inbox, fromWorkers: false);

        var entry = Assert.Single(_log.WithId(400));
        Assert.Equal<(object?, object?, object?, object?)>(("web", 50, 49, "READY=1"), (entry["Group"], entry["Pid"], entry["Session"], entry["Message"]));
    }

    [Fact]
    public void Drain_ManyStrangers_IsRateLimitedAndSaysHowManyLinesItHeldBack()
    {
        var inbox = NewInbox(capacity: 32, turnBudget: 32);
        for (var pid = 1; pid <= 8; pid++)
        {
            inbox.TryOffer(pid, s_ready);
        }
        DrainAll(inbox, fromWorkers: false);
        Assert.Equal(5, _log.WithId(400).Count);

        _time.Advance(TimeSpan.FromSeconds(10));
        inbox.TryOffer(9, s_ready);
        DrainAll(inbox, fromWorkers: false);

        var lines = _log.WithId(400);
        Assert.Equal(6, lines.Count);
        Assert.Equal<(object?, object?)>((9, 3L), (lines[^1]["Pid"], lines[^1]["HeldBack"]));
    }

    [Fact]
    public void Drain_Flood_IsReportedWithWhatWasSupersededAtMostOnceAnInterval()
    {
        var inbox = NewInbox(capacity: 2);
        for (var i = 0; i < 150; i++)
        {
            inbox.TryOffer(77, s_ping);
        }
        inbox.TryOffer(78, s_ready);
        Assert.False(inbox.TryOffer(79, s_ready)); // full: reading pauses once
        DrainAll(inbox);
        for (var i = 0; i < 150; i++)
        {
            inbox.TryOffer(77, s_ping);
        }
        DrainAll(inbox);

        var report = Assert.Single(_log.WithId(401));
        Assert.Equal<(object?, object?, object?, object?, object?, object?)>((149L, 1L, 77, 150L, 2, 2), (report["Superseded"], report["Paused"], report["Pid"], report["Datagrams"], report["Peak"], report["Capacity"]));

        _time.Advance(TimeSpan.FromSeconds(10));
        inbox.TryOffer(77, s_ping);
        DrainAll(inbox);

        var next = _log.WithId(401);
        Assert.Equal(2, next.Count);
        Assert.Equal<(object?, object?)>((149L, 0L), (next[1]["Superseded"], next[1]["Paused"])); // the second flood's, held back until now
    }

    [Fact]
    public void Drain_FewDatagramsPerTurn_IsNoFlood()
    {
        var inbox = NewInbox();
        inbox.TryOffer(1, s_ready);
        inbox.TryOffer(1, Status("up"));

        DrainAll(inbox);

        Assert.Empty(_log.WithId(401));
    }
}
