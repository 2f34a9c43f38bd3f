using Clusterd.Config;

namespace Clusterd.Tests.Config;

public class ConfigDiffTests
{
    private static ClusterConfig Parse(string toml)
    {
        var result = ConfigLoader.Parse(toml, "test.toml", AvailableCpus.Assumed(2));
        Assert.True(result.Errors.Count == 0, string.Join("\n", result.Errors));
        return result.Config!;
    }

    private const string Web = "[groups.web]\ncommand = [\"/bin/web\"]\nworkers = 2\nlisten = [\"127.0.0.1:8080\"]\n";

    [Fact]
    public void Plan_SameFile_ChangesNothing()
    {
        var plan = ConfigDiff.Plan(Parse(Web), Parse(Web));

        Assert.Equal((0, 0, 0), (plan.Added.Count, plan.Removed.Count, plan.Changed.Count));
        Assert.Equal(["web"], plan.Unchanged);
    }

    [Fact]
    public void Plan_GroupsAddedAndRemoved_AreListed()
    {
        var plan = ConfigDiff.Plan(Parse(Web + "[groups.old]\ncommand = [\"/bin/old\"]\n"), Parse(Web + "[groups.new]\ncommand = [\"/bin/new\"]\n"));

        Assert.Equal(["new"], plan.Added.Select(g => g.Name));
        Assert.Equal(["old"], plan.Removed);
        Assert.Empty(plan.Changed);
    }

    [Fact]
    public void Plan_LogFormatChanged_NotesItWaitsForARestartAndChangesNoGroup()
    {
        var plan = ConfigDiff.Plan(Parse("[logs]\nformat = \"text\"\n" + Web), Parse("[logs]\nformat = \"json\"\n" + Web));

        Assert.Empty(plan.Changed);
        Assert.StartsWith("[logs] format changed: it takes effect when clusterd restarts", Assert.Single(plan.Notes), StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_LogFormatChangedUnderALogFormatOnTheCommandLine_NotesNothing()
    {
        var overrides = CommandLineOverrides.Parse("json");

        var plan = ConfigDiff.Plan(overrides.Apply(Parse("[logs]\nformat = \"text\"\n" + Web)), overrides.Apply(Parse("[logs]\nformat = \"json\"\n" + Web)));

        Assert.Empty(plan.Notes);
        Assert.Equal(LogFormat.Json, overrides.Apply(Parse(Web)).LogFormat);
        Assert.Equal(LogFormat.Json, CommandLineOverrides.Parse(null).Apply(Parse("[logs]\nformat = \"json\"\n" + Web)).LogFormat);
    }

    [Theory]
    [InlineData("workers = 2", "workers = 4", "workers: 2 -> 4", false)]
    [InlineData("", "stop_timeout = \"30s\"", "stop_timeout: 10s -> 30s", false)]
    [InlineData("", "min_ready = 0", "min_ready: (every worker) -> 0", false)]
    [InlineData("", "env = { SECRET = \"x\" }", "env.SECRET added", true)]
    [InlineData("", "cwd = \"/srv\"", "cwd: (none) -> \"/srv\"", true)]
    [InlineData("listen = [\"127.0.0.1:8080\"]", "listen = [\"127.0.0.1:8081\"]", "listen: [127.0.0.1:8080] -> [127.0.0.1:8081]", true)]
    [InlineData("", "logs = { target = \"file\", rate_limit = \"10/s\" }",
        "logs: target auto, file (default), max_size 10MiB, keep 5, compress true, rate_limit (none) -> target file, file (default), max_size 10MiB, keep 5, compress true, rate_limit 10/s, burst 10", false)]
    public void Compare_OneKeyChanged_NamesItAndSaysWhetherWorkersRoll(string before, string after, string change, bool rolls)
    {
        const string Base = "[groups.web]\ncommand = [\"/bin/web\"]\n";
        var a = Parse(Base + before + "\n").Groups[0];
        var b = Parse(Base + after + "\n").Groups[0];

        var (changes, roll) = ConfigDiff.Compare(a, b);

        Assert.Equal([change], changes);
        Assert.Equal(rolls, roll);
    }

    [Fact]
    public void Compare_EnvValueChanged_DoesNotPrintTheValue()
    {
        const string Base = "[groups.web]\ncommand = [\"/bin/web\"]\n";

        var (changes, _) = ConfigDiff.Compare(
            Parse(Base + "env = { TOKEN = \"old-secret\" }\n").Groups[0],
            Parse(Base + "env = { TOKEN = \"new-secret\" }\n").Groups[0]);

        Assert.Equal(["env.TOKEN changed"], changes);
    }

    [Theory]
    [InlineData("\"0s\"", "\"5s\"")]
    [InlineData("\"5s\"", "\"0s\"")]
    [InlineData("\"5s\"", "\"10s\"")]
    public void Plan_WatchdogTimeoutChanged_Rolls(string before, string after)
    {
        // Workers learn WATCHDOG_USEC when they start: running ones would keep pinging (or keep silent) by the old value.
        var plan = ConfigDiff.Plan(Parse(Web + $"watchdog_timeout = {before}\n"), Parse(Web + $"watchdog_timeout = {after}\n"));

        Assert.True(Assert.Single(plan.Changed).Rolls);
    }
}
