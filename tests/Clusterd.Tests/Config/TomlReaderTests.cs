using Clusterd.Config;

namespace Clusterd.Tests.Config;

public class TomlReaderTests
{
    [Theory]
    [InlineData("wokers", "workers")]
    [InlineData("groupz", "groups")]
    [InlineData("xyz", null)]
    [InlineData("ab", null)]
    public void Suggest_Typo_ReturnsClosestOrNothing(string key, string? expected) =>
        Assert.Equal(expected, TomlReader.Suggest(key, ["workers", "groups", "cwd", "env"]));
}
