using Clusterd.Config;

namespace Clusterd.Tests.Config;

/// <summary>
/// Every fixture under fixtures/config: valid/*.toml must load with no error; invalid/NAME.toml must produce exactly the
/// errors in NAME.expected (one "LINE:COL: message" per line), so adding a regression case needs no new code.
/// </summary>
public class ConfigFixtureTests
{
    private static readonly string s_root = Path.Combine(AppContext.BaseDirectory, "fixtures", "config");

    public static TheoryData<string> ValidFixtures() => Fixtures("valid");

    public static TheoryData<string> InvalidFixtures() => Fixtures("invalid");

    private static TheoryData<string> Fixtures(string kind)
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(s_root, kind), "*.toml").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ValidFixtures))]
    public void Load_ValidFixture_HasNoErrors(string name)
    {
        var result = ConfigLoader.Load(Path.Combine(s_root, "valid", name));

        Assert.Empty(result.Errors.Select(e => e.ToString()));
        Assert.NotNull(result.Config);
    }

    [Theory]
    [MemberData(nameof(InvalidFixtures))]
    public void Load_InvalidFixture_ReportsExactlyTheExpectedErrors(string name)
    {
        var path = Path.Combine(s_root, "invalid", name);
        var expected = File.ReadAllLines(Path.ChangeExtension(path, ".expected")).Where(l => l.Length > 0).ToArray();

        var result = ConfigLoader.Load(path);

        Assert.Null(result.Config);
        Assert.Equal(expected, result.Errors.Select(e => $"{e.Line}:{e.Column}: {e.Message}").ToArray());
        Assert.All(result.Errors, e => Assert.Equal(path, e.File));
    }

    [Fact]
    public void Load_FullFixture_ReadsEveryKey()
    {
        var result = ConfigLoader.Load(Path.Combine(s_root, "valid", "full.toml"));

        Assert.True(result.IsValid, string.Join('\n', result.Errors));
        Assert.Equal("0.0.0.0:9464", result.Config.Metrics.Listen);
        Assert.False(result.Config.Container.ExitOnFailed);
        var web = result.Config.Groups[0];
        Assert.Equal(4, web.Workers);
        Assert.Equal(3, web.MinReady);
        Assert.Equal(3, web.Listen.Count);
        Assert.Equal(SharingMode.Shared, web.Sharing);
        Assert.Equal(ReadyMode.Notify, web.Ready);
        Assert.Equal(TimeSpan.FromSeconds(45), web.ReadyTimeout);
        Assert.Equal("/srv/web", web.Cwd);
        Assert.Equal("production", web.Env["NODE_ENV"]);
        Assert.Equal(RestartMode.OnFailure, web.Restart);
        Assert.Equal(new BackoffConfig(TimeSpan.FromMilliseconds(250), TimeSpan.FromMinutes(1), 1.5), web.Backoff);
        Assert.Equal(("SIGQUIT", 3), (web.StopSignalName, web.StopSignal));
        Assert.Equal(TimeSpan.FromSeconds(90), web.StopTimeout);
        var jobs = result.Config.Groups[1];
        Assert.Equal(Clusterd.Platform.CpuBudget.Detect().Count, jobs.Workers);
        Assert.Equal(new BackoffConfig(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 2.0), jobs.Backoff);
        Assert.Equal("default", jobs.Env["QUEUE"]);
        Assert.Equal("SIGINT", jobs.StopSignalName);
        var fileLogs = new LogsConfig(LogTarget.File, "/var/log/clusterd/{group}-{slot}.log", 50L << 20, 10, false, new LogRateLimit(1000, 5000));
        Assert.Equal(fileLogs, web.Logs);
        Assert.Equal(fileLogs with { Target = LogTarget.Journal, RateLimit = new LogRateLimit(10, 600) }, jobs.Logs);
        Assert.Equal(LogFormat.Json, result.Config.LogFormat);
    }

    [Fact]
    public void Load_ExampleConfigInEtc_HasNoErrors()
    {
        var path = FindRepoFile(Path.Combine("etc", "clusterd", "clusterd.toml"));

        var result = ConfigLoader.Load(path);

        Assert.Empty(result.Errors.Select(e => e.ToString()));
        var hello = Assert.Single(result.Config!.Groups);
        Assert.Equal(["bin/hello"], hello.Command);
        Assert.Equal(ReadyMode.Notify, hello.Ready);
    }

    private static string FindRepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new FileNotFoundException($"{relative} not found above {AppContext.BaseDirectory}");
    }
}
