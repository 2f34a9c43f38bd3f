using Clusterd.Protocol;
using Clusterd.Supervision;

namespace Clusterd.Tests.Supervision;

public class LifecycleJournalTests
{
    private static LifecycleEvent Make(long seq) => new(seq, DateTimeOffset.UnixEpoch, LifecycleEventKinds.Fork, "web", 0, 1, 1);

    [Fact]
    public void Since_MoreEventsThanCapacity_KeepsNewestInOrder()
    {
        var journal = new LifecycleJournal(capacity: 3);
        for (var i = 0; i < 5; i++)
        {
            journal.Append(Make);
        }

        Assert.Equal([3L, 4L, 5L], journal.Since(0).Select(e => e.Seq));
        Assert.Equal([5L], journal.Since(4).Select(e => e.Seq));
        Assert.Empty(journal.Since(5));
    }

    [Fact]
    public void Restore_AnUpgradedJournal_KeepsItsTailAndGoesOnFromItsSeq()
    {
        var journal = new LifecycleJournal(capacity: 3);

        journal.Restore([Make(40), Make(41)], nextSeq: 42);
        journal.Append(Make);

        Assert.Equal([40L, 41L, 42L], journal.Since(0).Select(e => e.Seq));
        Assert.Equal(43, journal.NextSeq);
    }
}
