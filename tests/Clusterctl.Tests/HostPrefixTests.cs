using Clusterctl.Output;

namespace Clusterctl.Tests;

public sealed class HostPrefixTests
{
    [Fact]
    public void Apply_Text_PrefixesEveryLinePaddedToTheWidestHost()
    {
        var prefixed = HostPrefix.Apply("web  running\n  SLOT  PID\n", "web1:22", width: 10, json: false, "\n");

        Assert.Equal("web1:22     web  running\nweb1:22       SLOT  PID\n", prefixed);
    }

    [Fact]
    public void Apply_Json_AddsTheHostFieldFirst()
    {
        var prefixed = HostPrefix.Apply("{\"groups\":[]}\n{}\n", "root@db\"1", width: 9, json: true, "\n");

        Assert.Equal("{\"host\":\"root@db\\u00221\",\"groups\":[]}\n{\"host\":\"root@db\\u00221\"}\n", prefixed);
    }

    [Fact]
    public void Apply_Empty_StaysEmpty() => Assert.Equal("", HostPrefix.Apply("", "web1", 4, json: false, "\n"));
}
