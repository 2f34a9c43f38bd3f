using System.Runtime.Versioning;
using Clusterd.Platform;

namespace Clusterd.Tests.Platform;

[SupportedOSPlatform("linux")] // /proc/self/exe
public sealed class UpgradeHandoffTests
{
    [Fact]
    public void OpenOwnExecutable_HoldsTheRunningFileCloseOnExec()
    {
        using var executable = UpgradeHandoff.OpenOwnExecutable();
        var fd = (int)executable.DangerousGetHandle();

        Assert.Equal(new FileInfo("/proc/self/exe").LinkTarget, new FileInfo($"/proc/self/fd/{fd}").LinkTarget);
        Assert.Equal(Interop.FD_CLOEXEC, Interop.fcntl(fd, Interop.F_GETFD, 0) & Interop.FD_CLOEXEC);
    }
}
