using System.Net.Sockets;
using Clusterd.Config;
using Clusterd.Sockets;
using Clusterd.Tests.Supervision;

namespace Clusterd.Tests.Sockets;

/// <summary>The socket set and its reload handover, on a binder that binds nothing.</summary>
public sealed class GroupListenersTests : IDisposable
{
    private readonly FakeListenerBinder _binder = new();

    public void Dispose() => _binder.Dispose();

    internal static ListenAddress Address(string text)
    {
        Assert.True(ListenAddressParser.TryParse(text, isWorkerListener: true, out var address, out var error), error);
        return address!;
    }

    internal static GroupConfig Group(SharingMode sharing, int workers, params string[] listen) =>
        FakeWorkerHost.Group() with { Workers = workers, Sharing = sharing, Listen = [.. listen.Select(Address)] };

    [Fact]
    public void Bind_ReusePort_OpensSlotZeroAtOnceAndEachSlotItsOwnSocketWhenAsked()
    {
        using var listeners = GroupListeners.Bind(Group(SharingMode.ReusePort, 2, "127.0.0.1:8080"), binder: _binder);
        Assert.Equal(["open 127.0.0.1:8080/0"], _binder.Calls);

        var zero = listeners.ForSlot(0);
        var one = listeners.ForSlot(1);

        Assert.NotSame(zero[0], one[0]);
        Assert.Same(zero[0], listeners.ForSlot(0)[0]);
        Assert.Equal(["open 127.0.0.1:8080/0", "open 127.0.0.1:8080/1"], _binder.Calls);
    }

    [Fact]
    public void Bind_SharedModeAndUnixAddresses_EveryWorkerGetsTheSameSocket()
    {
        using var listeners = GroupListeners.Bind(Group(SharingMode.ReusePort, 2, "127.0.0.1:8080", "unix:/run/web.sock"), binder: _binder);
        using var shared = GroupListeners.Bind(Group(SharingMode.Shared, 2, "127.0.0.1:8081"), binder: _binder);

        Assert.NotSame(listeners.ForSlot(0)[0], listeners.ForSlot(1)[0]);
        Assert.Same(listeners.ForSlot(0)[1], listeners.ForSlot(1)[1]); // unix: is shared whatever the group says
        Assert.Same(shared.ForSlot(0)[0], shared.ForSlot(1)[0]);
        Assert.Equal("web:web", listeners.FdNames);
    }

    [Fact]
    public void Bind_SecondAddressCannotBind_ClosesWhatWasOpenedAndThrows()
    {
        _binder.Fault = call => call.Contains("8081", StringComparison.Ordinal) ? new SocketException((int)SocketError.AddressAlreadyInUse) : null;

        Assert.Throws<SocketException>(() => GroupListeners.Bind(Group(SharingMode.Shared, 1, "127.0.0.1:8080", "127.0.0.1:8081"), binder: _binder));

        var opened = Assert.Single(_binder.Opened);
        Assert.True(_binder.IsClosed(opened.Socket));
        Assert.Empty(_binder.Kept); // retired: the service manager drops its copy too
    }

    [Fact]
    public void Rebind_AddressThatStays_MovesOverWithItsSockets_AndTheRestStaysWithPrevious()
    {
        var old = GroupListeners.Bind(Group(SharingMode.ReusePort, 2, "127.0.0.1:8080", "127.0.0.1:9090"), binder: _binder);
        var kept = old.ForSlot(1)[0];
        var dropped = old.ForSlot(0)[1];

        using var next = GroupListeners.Rebind(Group(SharingMode.ReusePort, 2, "127.0.0.1:7070", "127.0.0.1:8080"), old, binder: _binder);

        Assert.Same(kept, next.ForSlot(1)[1]);
        Assert.DoesNotContain(next.AllSockets(), s => s.Socket == dropped);
        Assert.Contains(old.AllSockets(), s => s.Socket == dropped);
        Assert.DoesNotContain(old.AllSockets(), s => s.Socket == kept);
        old.Retire(); // what the reload does once every old worker is gone

        Assert.True(_binder.IsClosed(dropped));
        Assert.False(_binder.IsClosed(kept));
    }

    [Fact]
    public void Rebind_SharingModeChanged_TakesNothingOver()
    {
        using var old = GroupListeners.Bind(Group(SharingMode.ReusePort, 1, "127.0.0.1:8080"), binder: _binder);

        using var next = GroupListeners.Rebind(Group(SharingMode.Shared, 1, "127.0.0.1:8080"), old, binder: _binder);

        Assert.NotSame(old.ForSlot(0)[0], next.ForSlot(0)[0]);
    }

    [Fact]
    public void Rebind_NewAddressCannotBind_NothingMoves()
    {
        using var old = GroupListeners.Bind(Group(SharingMode.ReusePort, 1, "127.0.0.1:8080"), binder: _binder);
        var kept = old.ForSlot(0)[0];
        _binder.Fault = call => call.Contains("9090", StringComparison.Ordinal) ? new SocketException((int)SocketError.AddressAlreadyInUse) : null;

        Assert.Throws<SocketException>(() => GroupListeners.Rebind(Group(SharingMode.ReusePort, 1, "127.0.0.1:8080", "127.0.0.1:9090"), old, binder: _binder));

        Assert.Same(kept, old.ForSlot(0)[0]);
        Assert.False(_binder.IsClosed(kept));
    }

    [Fact]
    public void Revert_GivesTheTakenSocketsBack_AndClosesTheNewOnes()
    {
        using var old = GroupListeners.Bind(Group(SharingMode.ReusePort, 1, "127.0.0.1:8080"), binder: _binder);
        var kept = old.ForSlot(0)[0];
        var next = GroupListeners.Rebind(Group(SharingMode.ReusePort, 1, "127.0.0.1:8080", "127.0.0.1:9090"), old, binder: _binder);
        var added = next.ForSlot(0)[1];

        next.Revert();

        Assert.Same(kept, old.ForSlot(0)[0]);
        Assert.False(_binder.IsClosed(kept));
        Assert.True(_binder.IsClosed(added));
        Assert.False(_binder.Kept.ContainsValue(added));
    }

    [Fact]
    public void ForSlot_AddressHandedOverToTheNextSet_ThrowsSayingSo()
    {
        using var old = GroupListeners.Bind(Group(SharingMode.ReusePort, 1, "127.0.0.1:8080"), binder: _binder);
        using var next = GroupListeners.Rebind(Group(SharingMode.ReusePort, 1, "127.0.0.1:8080"), old, binder: _binder);

        var e = Assert.Throws<InvalidOperationException>(() => old.ForSlot(0));
        var replacement = Assert.Throws<InvalidOperationException>(() => old.OpenForReplacement(0));

        Assert.Contains("127.0.0.1:8080 moved to the next configuration's listeners", e.Message, StringComparison.Ordinal);
        Assert.Equal(e.Message, replacement.Message);
        Assert.NotNull(next.ForSlot(0)[0]);
    }

    [Fact]
    public void ForSlot_AfterRetire_ThrowsSayingTheListenersAreClosed()
    {
        var listeners = GroupListeners.Bind(Group(SharingMode.ReusePort, 1, "127.0.0.1:8080"), binder: _binder);
        listeners.Retire();

        var e = Assert.Throws<InvalidOperationException>(() => listeners.ForSlot(0));

        Assert.Contains("group 'web': its listeners are closed", e.Message, StringComparison.Ordinal);
        Assert.Empty(listeners.AllSockets());
        listeners.CloseUnrouted([]); // what is empty is skipped, not dereferenced
        listeners.ReleaseSlot(0);
    }

    [Fact]
    public void Dispose_LeavesTheServiceManagersCopies_RetireDropsThem()
    {
        var staying = GroupListeners.Bind(Group(SharingMode.ReusePort, 1, "127.0.0.1:8080"), binder: _binder);
        var leaving = GroupListeners.Bind(Group(SharingMode.Shared, 1, "127.0.0.1:9090"), binder: _binder);

        staying.Dispose(); // clusterd exits: the next one gets the socket back from the service manager
        leaving.Retire();  // the group is gone

        Assert.Equal([FakeListenerBinder.Name(Address("127.0.0.1:8080"), 0)], _binder.Kept.Keys);
        Assert.Equal([false, true], _binder.Closed.Select(c => c.ForGood));
    }

    [Fact]
    public void OpenForReplacement_NoSteeringHere_ReturnsNullAndTheReplacementSharesTheSlots()
    {
        _binder.CanSteer = false;
        using var listeners = GroupListeners.Bind(Group(SharingMode.ReusePort, 1, "127.0.0.1:8080"), binder: _binder);

        Assert.Null(listeners.OpenForReplacement(0));
    }

    [Fact]
    public void OpenForVacatedSlot_SteeredAddressVacated_OwnUnroutedSocketThere_AndTheSharedOnesAsEver()
    {
        using var listeners = GroupListeners.Bind(Group(SharingMode.ReusePort, 2, "127.0.0.1:8080", "unix:/run/web.sock"), binder: _binder);
        var slot1 = listeners.ForSlot(1);
        listeners.ForSlot(0);

        Assert.Null(listeners.OpenForVacatedSlot(1)); // nothing vacated yet
        Assert.True(listeners.Vacate(1));
        var own = listeners.OpenForVacatedSlot(1)!;

        Assert.NotSame(slot1[0], own[0]);
        Assert.True(_binder.IsClosed(slot1[0]));
        Assert.Same(slot1[1], own[1]); // the unix: socket is shared
        Assert.Empty(listeners.Promote(1, own));
        Assert.Same(own[0], listeners.ForSlot(1)[0]);
    }

    [Fact]
    public void Rebind_SlotZeroVacated_StaysVacated_NoRoutedSocketIsBoundForIt()
    {
        using var listeners = GroupListeners.Bind(Group(SharingMode.ReusePort, 2, "127.0.0.1:8080"), binder: _binder);
        listeners.ForSlot(1);
        listeners.Vacate(0);
        var opened = _binder.Opened.Count;

        using var next = GroupListeners.Rebind(Group(SharingMode.ReusePort, 2, "127.0.0.1:8080"), listeners, binder: _binder);

        Assert.Equal(opened, _binder.Opened.Count);
        Assert.NotNull(next.OpenForVacatedSlot(0));
    }
}
