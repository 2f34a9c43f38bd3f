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
}
