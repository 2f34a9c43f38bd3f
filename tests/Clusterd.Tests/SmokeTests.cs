namespace Clusterd.Tests;

public class SmokeTests
{
    [Fact]
    public void Main_NoArguments_ReturnsZero() => Assert.Equal(0, 0);
}
