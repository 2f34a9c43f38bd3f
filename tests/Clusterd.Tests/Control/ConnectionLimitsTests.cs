using Clusterd.Control;

namespace Clusterd.Tests.Control;

public sealed class ConnectionLimitsTests
{
    private const uint Reader = 1000;
    private const uint OtherReader = 1001;
    private const uint Admin = 0;

    private static void Admit(ConnectionLimits limits, uint uid, AccessLevel access, int count)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.Null(limits.TryAdmit(uid, access));
        }
    }

    [Fact]
    public void TryAdmit_ReaderAtItsLimit_IsRefusedWhileOtherReadersAndAdminsAreNot()
    {
        var limits = new ConnectionLimits();
        Admit(limits, Reader, AccessLevel.Read, ConnectionLimits.PerReader);

        var refusal = limits.TryAdmit(Reader, AccessLevel.Read);

        Assert.NotNull(refusal);
        Assert.Contains($"uid {Reader} already holds {ConnectionLimits.PerReader}", refusal.Value.Message, StringComparison.Ordinal);
        Assert.Null(limits.TryAdmit(OtherReader, AccessLevel.Read));
        Assert.Null(limits.TryAdmit(Admin, AccessLevel.Admin));
    }

    [Fact]
    public void TryAdmit_ReadersFillTheirShare_TheAdminReserveStaysForAdmins()
    {
        var limits = new ConnectionLimits();
        for (int uid = 2000, left = ConnectionLimits.Total - ConnectionLimits.AdminReserve; left > 0; uid++, left -= ConnectionLimits.PerReader)
        {
            Admit(limits, (uint)uid, AccessLevel.Read, Math.Min(left, ConnectionLimits.PerReader));
        }

        var reader = limits.TryAdmit(9999, AccessLevel.Read);

        Assert.NotNull(reader);
        Assert.Contains("kept for administrators", reader.Value.Message, StringComparison.Ordinal);
        Admit(limits, Admin, AccessLevel.Admin, ConnectionLimits.AdminReserve);
        Assert.NotNull(limits.TryAdmit(Admin, AccessLevel.Admin)); // and no more than the total
    }

    [Fact]
    public void Release_OfAReadersConnection_LetsItConnectAgain()
    {
        var limits = new ConnectionLimits();
        Admit(limits, Reader, AccessLevel.Read, ConnectionLimits.PerReader);
        Assert.NotNull(limits.TryAdmit(Reader, AccessLevel.Read));

        limits.Release(Reader, AccessLevel.Read);

        Assert.Null(limits.TryAdmit(Reader, AccessLevel.Read));
    }

    [Fact]
    public void TryAdmit_RefusedAgainAndAgain_IsFirstInARowOnlyUntilAConnectionOfItCloses()
    {
        var limits = new ConnectionLimits();
        Admit(limits, Reader, AccessLevel.Read, ConnectionLimits.PerReader);

        var first = limits.TryAdmit(Reader, AccessLevel.Read);
        var second = limits.TryAdmit(Reader, AccessLevel.Read);
        limits.Release(Reader, AccessLevel.Read);
        Admit(limits, Reader, AccessLevel.Read, 1);
        var afterRelease = limits.TryAdmit(Reader, AccessLevel.Read);

        Assert.Equal((true, false, true), (first!.Value.FirstInARow, second!.Value.FirstInARow, afterRelease!.Value.FirstInARow));
    }
}
