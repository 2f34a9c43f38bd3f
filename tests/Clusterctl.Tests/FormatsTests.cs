using Clusterctl.Output;

namespace Clusterctl.Tests;

public sealed class FormatsTests
{
    [Theory]
    [InlineData(null, "-")]
    [InlineData(0.4, "0s")]
    [InlineData(59.9, "59s")]
    [InlineData(192.0, "3m12s")]
    [InlineData(7500.0, "2h05m")]
    [InlineData(93784.0, "1d02h")]
    public void Uptime_TwoLargestUnits(double? seconds, string expected) => Assert.Equal(expected, Formats.Uptime(seconds, new char[TableRenderer.ScratchChars]).ToString());

    [Theory]
    [InlineData(null, "-")]
    [InlineData(512L, "512 B")]
    [InlineData(1536L, "1.5 KiB")]
    [InlineData(25_270_000L, "24.1 MiB")]
    [InlineData(1_288_490_189L, "1.2 GiB")]
    public void Bytes_BinaryUnits(long? bytes, string expected) => Assert.Equal(expected, Formats.Bytes(bytes, new char[TableRenderer.ScratchChars]).ToString());

    [Theory]
    [InlineData(null, "-")]
    [InlineData(0.0, "0.00s")]
    [InlineData(0.015, "0.02s")] // 0.01499999... as a double; "0.00" rounds its 15 digits, half away from zero
    [InlineData(12.3456, "12.35s")]
    [InlineData(-0.5, "-0.50s")]
    public void CpuSeconds_TwoDecimals(double? seconds, string expected) => Assert.Equal(expected, Formats.CpuSeconds(seconds, new char[TableRenderer.ScratchChars]).ToString());

    /// <summary>
    /// CPU seconds and bytes are written as the custom formats "0.00" and "0.0" write them, digit for digit: every
    /// multiple of 0.001 up to 2,000 and of 0.005 and 0.05 beyond (the ties of both), half a million values of 16 or 17
    /// digits (which the fast path leaves to the format), as many byte counts, and the extremes.
    /// </summary>
    [Fact]
    public void CpuSecondsAndBytes_WriteWhatTheCustomFormatsWrite()
    {
        var scratch = new char[TableRenderer.ScratchChars];
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        var random = new Random(13);
        var mismatches = new List<string>();
        for (var k = 0L; k < 2_000_000; k++)
        {
            Check(k / 1000.0);
            Check(k / 200.0);
            Check(k / 20.0);
        }
        for (var i = 0; i < 500_000; i++)
        {
            Check(random.NextDouble() * 1024);
            Check(random.NextInt64(0, 1L << 50) / 1_000_000.0);
            CheckBytes(random.NextInt64(0, 1L << 42));
        }
        foreach (var extreme in (double[])[999_999_999_999_999.9, 1e15, 1e300, double.MaxValue, double.Epsilon, -1e-9, double.NaN])
        {
            Check(extreme);
        }
        Assert.Empty(mismatches);

        void Check(double value)
        {
            var expected = $"{value.ToString("0.00", invariant)}s";
            if (!Formats.CpuSeconds(value, scratch).SequenceEqual(expected))
            {
                mismatches.Add($"{value:R}: {Formats.CpuSeconds(value, scratch)}, not {expected}");
            }
        }

        void CheckBytes(long bytes)
        {
            var scaled = bytes / 1024.0;
            var unit = 0;
            for (; scaled >= 1024 && unit < 3; unit++)
            {
                scaled /= 1024;
            }
            var expected = bytes < 1024 ? $"{bytes} B" : $"{scaled.ToString("0.0", invariant)} {Units[unit]}";
            if (!Formats.Bytes(bytes, scratch).SequenceEqual(expected))
            {
                mismatches.Add($"{bytes} bytes: {Formats.Bytes(bytes, scratch)}, not {expected}");
            }
        }
    }

    private static readonly string[] Units = ["KiB", "MiB", "GiB", "TiB"];

    /// <summary>The fast path is the one taken for what clusterd sends: numbers of up to 15 digits (JSON's shortest form of its readings).</summary>
    [Fact]
    public void Hundredths_NumbersOfFifteenDigitsOrFewer_AreCountedWithoutTheFormat()
    {
        Assert.Equal(0, Formats.Hundredths(0));
        Assert.Equal(2, Formats.Hundredths(0.015));
        Assert.Equal(125, Formats.Hundredths(1.25));
        Assert.Equal(1235, Formats.Hundredths(12.3456));
        Assert.Equal(12_345_679, Formats.Hundredths(123_456.789012));
        Assert.Equal(10_000_000_000, Formats.Hundredths(99_999_999.995));
        Assert.Equal(-1, Formats.Hundredths(-0.001));
        Assert.Equal(-1, Formats.Hundredths(double.NaN));
        Assert.Equal(-1, Formats.Hundredths(1e15));
        Assert.Equal(-1, Formats.Hundredths(0.1 + 0.2)); // 0.30000000000000004: 17 digits
    }

    [Theory]
    [InlineData(null, null, null, "-")]
    [InlineData("exited", 0, null, "exited(0)")]
    [InlineData("crashed", null, 9, "crashed(SIGKILL)")]
    [InlineData("stopped", null, null, "stopped")]
    [InlineData(null, null, 64, "exited(64)")]
    public void LastExit_ReasonWithCodeOrSignal(string? reason, int? code, int? signal, string expected) =>
        Assert.Equal(expected, Formats.LastExit(reason, code, signal));

    [Theory]
    [InlineData("5", 5000)]
    [InlineData("5s", 5000)]
    [InlineData("500ms", 500)]
    [InlineData("1.5s", 1500)]
    [InlineData("1m", 60000)]
    public void TryParseDuration_Accepts(string text, double milliseconds)
    {
        Assert.True(GlobalOptions.TryParseDuration(text, out var value));
        Assert.Equal(milliseconds, value.TotalMilliseconds);
    }

    [Theory]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("-1s")]
    [InlineData("0")]
    public void TryParseDuration_Rejects(string text) => Assert.False(GlobalOptions.TryParseDuration(text, out _));

    [Theory]
    [InlineData("web", "web", null)]
    [InlineData("web/2", "web", 2)]
    public void GroupTarget_Parses(string text, string group, int? slot)
    {
        Assert.True(Commands.GroupTarget.TryParse(text, out var target, out _));
        Assert.Equal(new Commands.GroupTarget(group, slot), target);
    }
}
