using System.Net.Sockets;
using Clusterd.Sockets;

namespace Clusterd.Tests.Sockets;

/// <summary>Which sockets of one reuseport address are routed, on a fake binder that records the kernel's steering.</summary>
public sealed class SteeredAddressTests : IDisposable
{
    private readonly FakeListenerBinder _binder = new();
    private readonly List<string> _failures = [];
    private readonly SteeredAddress _address;

    public SteeredAddressTests() =>
        _address = new SteeredAddress(GroupListenersTests.Address("127.0.0.1:8080"), _binder, _failures.Add);

    public void Dispose() => _binder.Dispose();

    [Fact]
    public void Changes_CountsEverySocketThatJoinsOrLeaves_NotOneThatMovesBetweenSlotAndUnrouted()
    {
        var seen = new List<(string Step, bool SocketsChanged, bool CountChanged)>();
        var (sockets, changes) = (_address.Sockets.ToHashSet(), _address.Changes);
        void Step(string name, Action act)
        {
            act();
            var now = _address.Sockets.ToHashSet();
            seen.Add((name, !now.SetEquals(sockets), _address.Changes != changes));
            (sockets, changes) = (now, _address.Changes);
        }
        Socket? own = null;

        Step("open slot 0", () => _address.ForSlot(0));
        Step("slot 0 again", () => _address.ForSlot(0));
        Step("open slot 1", () => _address.ForSlot(1));
        Step("replacement for 1", () => own = _address.OpenForReplacement(1));
        Step("promote", () => _address.Promote(1, own!));
        Step("close the old", () => _address.CloseUnrouted([.. sockets.Except([_address.ForSlot(0), own!])]));
        Step("vacate 1", () => _address.Vacate(1));
        Step("slot 1 anew", () => _address.ForSlot(1));
        Step("release 1", () => _address.ReleaseSlot(1));
        Step("close", () => _address.Close(forGood: true));

        Assert.All(seen, s => Assert.True(s.SocketsChanged == s.CountChanged, $"{s.Step}: sockets changed {s.SocketsChanged}, count changed {s.CountChanged}"));
        Assert.Equal(["slot 0 again", "promote"], seen.Where(s => !s.SocketsChanged).Select(s => s.Step));
    }

    [Fact]
    public void ForSlot_NoSocketUnrouted_AttachesNoProgram()
    {
        _address.ForSlot(0);
        _address.ForSlot(1);

        Assert.Null(_binder.Routed);
        Assert.DoesNotContain(_binder.Calls, c => c.StartsWith("route", StringComparison.Ordinal));
    }

    [Fact]
    public void OpenForReplacement_SteersBeforeItBinds_SoTheNewSocketGetsNothingUntilPromoted()
    {
        var slot0 = _address.ForSlot(0);
        var slot1 = _address.ForSlot(1);

        var own = _address.OpenForReplacement(1);

        Assert.Equal(["open 127.0.0.1:8080/0", "open 127.0.0.1:8080/1", "route 2", "bind 127.0.0.1:8080"], _binder.Calls);
        Assert.Equal([slot0, slot1], _binder.Routed);
        Assert.DoesNotContain(own, _binder.Kept.Values);
        Assert.Contains(own, _address.Sockets);
    }

    [Fact]
    public void Promote_TheReplacementsSocketBecomesTheSlots_AndTheOldOneIsUnroutedUntilItCloses()
    {
        var slot0 = _address.ForSlot(0);
        var old = _address.ForSlot(1);
        var own = _address.OpenForReplacement(1);

        var retired = _address.Promote(1, own);

        Assert.Same(old, retired);
        Assert.Same(own, _address.ForSlot(1));
        Assert.Equal([slot0, own], _binder.Routed);
        Assert.Same(own, _binder.Kept[FakeListenerBinder.Name(_address.Address, 1)]); // the fd store follows the slot
        Assert.False(_binder.IsClosed(old)); // its worker still accepts what was queued on it

        _address.CloseUnrouted([old]);

        Assert.True(_binder.IsClosed(old));
        Assert.Null(_binder.Routed); // nothing unrouted is left: the kernel picks by hash again
        Assert.Equal("detach", _binder.Calls[^1]);
    }

    [Fact]
    public void Promote_SocketNotOpenedForAReplacementHere_ChangesNothing()
    {
        var slot0 = _address.ForSlot(0);

        Assert.Null(_address.Promote(0, slot0));
        Assert.Same(slot0, _address.ForSlot(0));
    }

    [Fact]
    public void ForSlot_NewSlotWhileSteering_JoinsTheRoute()
    {
        var slot0 = _address.ForSlot(0);
        _address.OpenForReplacement(0);

        var slot1 = _address.ForSlot(1);

        Assert.Equal([slot0, slot1], _binder.Routed);
    }

    [Fact]
    public void ReleaseSlot_IsSteeredAwayBeforeItCloses_SoItsQueueMovesOn()
    {
        var slot0 = _address.ForSlot(0);
        var slot1 = _address.ForSlot(1);
        _binder.Calls.Clear();

        _address.ReleaseSlot(1);

        Assert.Equal(["drop 127.0.0.1:8080/1", "route 1", "close", "detach"], _binder.Calls);
        Assert.True(_binder.IsClosed(slot1));
        Assert.Equal([slot0], _address.Sockets);
    }

    [Fact]
    public void Route_SteeringFails_IsReportedOnce_AndTheAddressCarriesOnWithout()
    {
        _address.ForSlot(0);
        _binder.FailRoute = new IOException("bpf(BPF_PROG_LOAD) failed: Operation not permitted");

        var own = _address.OpenForReplacement(0);
        _address.Promote(0, own);
        _address.OpenForReplacement(0);

        Assert.Equal(["127.0.0.1:8080: bpf(BPF_PROG_LOAD) failed: Operation not permitted"], _failures);
        Assert.False(_address.CanSteer);
        Assert.Same(own, _address.ForSlot(0));
    }

    [Fact]
    public void Close_UnroutedSocketsFirst_WhileTheProgramCanStillMoveTheirQueues()
    {
        var slot0 = _address.ForSlot(0);
        var own = _address.OpenForReplacement(0);
        _binder.Calls.Clear();

        _address.Close(forGood: false);

        Assert.Equal(["close", "detach", "close"], _binder.Calls);
        Assert.Equal([own, slot0], _binder.Closed.Select(c => c.Socket));
        Assert.Contains(slot0, _binder.Kept.Values); // clusterd is exiting: the service manager keeps the slot's socket
    }

    [Fact]
    public void Vacate_AnotherSlotRouted_SteersAwayThenClosesTheSlotsSocket_AndTheFdStoreDropsIt()
    {
        var slot0 = _address.ForSlot(0);
        var slot1 = _address.ForSlot(1);
        _binder.Calls.Clear();

        Assert.True(_address.Vacate(1));

        Assert.Equal(["route 1", "drop 127.0.0.1:8080/1", "close"], _binder.Calls); // routed away before it closes
        Assert.True(_binder.IsClosed(slot1));
        Assert.Equal([slot0], _binder.Routed); // still attached: the slot's next socket must not get connections early
        Assert.Equal([slot0], _address.Sockets);
        Assert.True(_address.IsVacated(1));
    }

    [Fact]
    public void Vacate_ThenReplacementPromoted_TheNewSocketIsTheSlots_AndTheKernelPicksByHashAgain()
    {
        var slot0 = _address.ForSlot(0);
        _address.ForSlot(1);
        _address.Vacate(1);

        var own = _address.OpenForReplacement(1);

        Assert.Equal([slot0], _binder.Routed); // no routed socket was bound for the vacated slot meanwhile
        Assert.Equal(2, _binder.Opened.Count);

        Assert.Null(_address.Promote(1, own)); // no old socket: it closed when the worker died

        Assert.False(_address.IsVacated(1));
        Assert.Same(own, _address.ForSlot(1));
        Assert.Same(own, _binder.Kept[FakeListenerBinder.Name(_address.Address, 1)]);
        Assert.Null(_binder.Routed);
        Assert.Equal("detach", _binder.Calls[^1]);
    }

    [Fact]
    public void Vacate_OnlySlot_KeepsItsSocketForTheNextProcess()
    {
        var slot0 = _address.ForSlot(0);

        Assert.False(_address.Vacate(0));

        Assert.False(_binder.IsClosed(slot0));
        Assert.Same(slot0, _address.ForSlot(0));
        Assert.Null(_binder.Routed);
    }

    [Fact]
    public void Vacate_NoSteeringHere_KeepsTheSlotsSocket()
    {
        _binder.CanSteer = false;
        _address.ForSlot(0);
        var slot1 = _address.ForSlot(1);

        Assert.False(_address.Vacate(1));

        Assert.False(_binder.IsClosed(slot1));
        Assert.Same(slot1, _address.ForSlot(1));
    }

    [Fact]
    public void Vacate_SteeringFailsNow_TheSlotKeepsItsSocketAndItsFdStoreCopy()
    {
        _address.ForSlot(0);
        var slot1 = _address.ForSlot(1);
        _binder.FailRoute = new IOException("bpf(BPF_PROG_LOAD) failed: Cannot allocate memory");

        Assert.False(_address.Vacate(1));

        Assert.Single(_failures);
        Assert.False(_binder.IsClosed(slot1));
        Assert.Same(slot1, _binder.Kept[FakeListenerBinder.Name(_address.Address, 1)]);
        Assert.Same(slot1, _address.ForSlot(1));
        Assert.False(_address.IsVacated(1));
    }

    [Fact]
    public void ReleaseSlot_Vacated_ForgetsTheSlot_AndTheKernelPicksByHashAgain()
    {
        _address.ForSlot(0);
        _address.ForSlot(1);
        _address.Vacate(1);

        _address.ReleaseSlot(1);

        Assert.False(_address.IsVacated(1));
        Assert.Null(_binder.Routed);
    }

    [Fact]
    public void Close_OnTheWayOutWithASlotVacated_DetachesSoTheServiceManagersGroupIsPlainAgain()
    {
        var slot0 = _address.ForSlot(0);
        _address.ForSlot(1);
        _address.Vacate(1);

        _address.Close(forGood: false);

        Assert.Null(_binder.Routed);
        Assert.Contains(slot0, _binder.Kept.Values);
    }
}
