using Clusterd.Config;

namespace Clusterd.Tests.Config;

public class ByteSizeTests
{
    [Theory]
    [InlineData("64KiB", 64L << 10)]
    [InlineData("512MiB", 512L << 20)]
    [InlineData("1.5GiB", 3L << 29)]
    [InlineData(" 2GiB ", 2L << 30)]
    [InlineData("1024GiB", 1L << 40)]
    public void TryParse_BinaryUnits_GiveBytes(string text, long expected)
    {
        Assert.True(ByteSize.TryParse(text, out var bytes, out var error), error);
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("512", "has no unit")]
    [InlineData("512MB", "unknown unit 'MB'")]
    [InlineData("MiB", "is not a number")]
    [InlineData("-1MiB", "is not a number")]
    [InlineData("1025GiB", "more than the maximum")]
    [InlineData("99999999999999999999999999GiB", "more than the maximum")]
    public void TryParse_Invalid_SaysWhy(string text, string why)
    {
        Assert.False(ByteSize.TryParse(text, out _, out var error));
        Assert.Contains(why, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(512L << 20, "512MiB")]
    [InlineData(2L << 30, "2GiB")]
    [InlineData(3L << 10, "3KiB")]
    public void Format_UsesTheLargestWholeUnit(long bytes, string expected) => Assert.Equal(expected, ByteSize.Format(bytes));
}
