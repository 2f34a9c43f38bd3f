using System.Runtime.Versioning;
using Clusterd.Platform;
using Clusterd.Supervision.Upgrade;

namespace Clusterd.Tests.Supervision.Upgrade;

[SupportedOSPlatform("linux")] // an in-place upgrade is Linux only
public sealed class UpgradeAdoptionTests
{
    private static UpgradeState State(int? oldBinaryFd) => new(UpgradeDocument.Current, "/usr/bin/clusterd", [], "0.1.0",
        "/etc/clusterd/clusterd.toml", "", DateTimeOffset.UnixEpoch, ControlFd: 3, NextSeq: 0, [], MetricsCounters.None, Spawns: 0, [],
        OldBinaryFd: oldBinaryFd);

    [Fact]
    public void HoldOldBinary_DescriptorTheStateNames_IsTakenCloseOnExecAgain()
    {
        // As the exec left it: inheritable, and nobody's handle.
        var fd = Inheritable(UpgradeHandoff.OpenOwnExecutable());

        using var held = UpgradeAdoption.HoldOldBinary(State(fd));

        Assert.Equal(fd, (int)held!.DangerousGetHandle());
        Assert.Equal(Interop.FD_CLOEXEC, Interop.fcntl(fd, Interop.F_GETFD, 0) & Interop.FD_CLOEXEC);
    }

    [Fact]
    public void HoldOldBinary_StateBeforeVersion3_HoldsNothing()
    {
        Assert.Null(UpgradeAdoption.HoldOldBinary(State(null)));
    }

    [Fact]
    public void HoldOldBinary_DescriptorNotOpen_IsAStateThatDoesNotRead()
    {
        var e = Assert.Throws<UpgradeStateException>(() => UpgradeAdoption.HoldOldBinary(State(int.MaxValue)));

        Assert.Contains($"the old binary's descriptor {int.MaxValue} is not there", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Complete_TakeoverDone_ClosesTheOldBinary()
    {
        var stateFd = Inheritable(UpgradeHandoff.CreateSealed("clusterd-upgrade-test", "{}"u8));
        var held = UpgradeAdoption.HoldOldBinary(State(Inheritable(UpgradeHandoff.OpenOwnExecutable())))!;
        var adoption = new UpgradeAdoption(State(null), stateFd, held, fallbackReason: null);

        adoption.Complete();

        Assert.True(held.IsClosed);
        Assert.False(adoption.Pending);
    }

    /// <summary>The handle's fd, inheritable and given up by the handle, as an fd named in a state is after the exec.</summary>
    private static int Inheritable(Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        Descriptors.SetInheritable(handle, inheritable: true);
        var fd = (int)handle.DangerousGetHandle();
        handle.SetHandleAsInvalid(); // the fd lives on, owned by whoever takes it next
        return fd;
    }
}
