using System.Net;
using Clusterd.Config;

namespace Clusterd.Tests.Config;

public class ConfigLoaderTests
{
    private const string File = "clusterd.toml";

    private static ConfigResult Parse(string toml, int processorCount = 8) =>
        ConfigLoader.Parse(toml.ReplaceLineEndings("\n"), File, AvailableCpus.Assumed(processorCount));

    private static string[] Errors(string toml) => Parse(toml).Errors.Select(e => e.ToString()).ToArray();

    private static void AssertSingleError(string toml, string expected) =>
        Assert.Equal(expected, Assert.Single(Errors(toml)));

    private static GroupConfig SingleGroup(string toml, int processorCount = 8)
    {
        var result = Parse(toml, processorCount);
        Assert.Empty(result.Errors);
        Assert.True(result.IsValid);
        return Assert.Single(result.Config.Groups);
    }

    [Fact]
    public void Parse_MinimalGroup_AppliesEveryDefault()
    {
        var group = SingleGroup("""
            [groups.web]
            command = ["/usr/bin/node", "server.js"]
            """);

        Assert.Equal("web", group.Name);
        Assert.Equal(["/usr/bin/node", "server.js"], group.Command);
        Assert.Equal(1, group.Workers);
        Assert.Empty(group.Listen);
        Assert.Equal(OperatingSystem.IsMacOS() ? SharingMode.Shared : SharingMode.ReusePort, group.Sharing);
        Assert.Equal(ReadyMode.Started, group.Ready);
        Assert.Equal(TimeSpan.FromSeconds(30), group.ReadyTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), group.MinUptime);
        Assert.Null(group.User);
        Assert.Null(group.Group);
        Assert.Null(group.Cwd);
        Assert.Empty(group.Env);
        Assert.Equal(RestartMode.Always, group.Restart);
        Assert.Equal(new BackoffConfig(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30), 2.0), group.Backoff);
        Assert.Equal(10, group.MaxRestarts);
        Assert.Equal(TimeSpan.FromSeconds(60), group.RestartWindow);
        Assert.Equal(15, group.StopSignal);
        Assert.Equal("SIGTERM", group.StopSignalName);
        Assert.Equal(TimeSpan.FromSeconds(10), group.StopTimeout);
        Assert.Equal(TimeSpan.Zero, group.WatchdogTimeout);
    }

    [Fact]
    public void Parse_NoGroups_IsValidWithEmptyDefaults()
    {
        var result = Parse("# nothing to run yet\n");

        Assert.True(result.IsValid);
        Assert.Empty(result.Config.Groups);
        Assert.Equal(File, result.Config.Path);
        Assert.Equal(new ControlConfig(null, null, null, null), result.Config.Control);
        Assert.Null(result.Config.Metrics.Listen);
    }

    [Fact]
    public void Parse_EmptyText_IsValid() => Assert.True(Parse("").IsValid);

    [Theory]
    [InlineData(8, 8)]
    [InlineData(1, 1)]
    [InlineData(0, 1)]
    [InlineData(10000, 4096)]
    public void Parse_WorkersAuto_ResolvesToProcessorCount(int processorCount, int expected)
    {
        var group = SingleGroup("""
            [groups.web]
            command = ["/bin/app"]
            workers = "auto"
            """, processorCount);

        Assert.Equal(expected, group.Workers);
    }

    [Fact]
    public void Parse_ControlAndMetrics_AreRead()
    {
        var result = Parse("""
            [control]
            socket = "/run/clusterd/clusterd.sock"
            group = "clusterd"
            admin_group = "ops"
            read_group = "dev"
            [metrics]
            listen = "127.0.0.1:9464"
            """);

        Assert.True(result.IsValid);
        Assert.Equal(new ControlConfig("/run/clusterd/clusterd.sock", "clusterd", "ops", "dev"), result.Config.Control);
        Assert.Equal("127.0.0.1:9464", result.Config.Metrics.Listen);
    }

    [Theory]
    [InlineData("[::1]:9464")]
    [InlineData("[::]:9464")]
    public void Parse_MetricsOnIPv6_IsRefusedWithTheFix(string listen)
    {
        var result = Parse($"[metrics]\nlisten = \"{listen}\"\n");

        var error = Assert.Single(result.Errors);
        Assert.Equal((2, 10), (error.Line, error.Column));
        Assert.Equal($"metrics: 'listen' must be an IPv4 address, or 0.0.0.0 for every interface (got \"{listen}\"); e.g. listen = \"127.0.0.1:9464\"", error.Message);
    }

    [Fact]
    public void Parse_MetricsOnEveryInterface_IsAccepted()
    {
        var result = Parse("[metrics]\nlisten = \"0.0.0.0:9464\"\n");

        Assert.True(result.IsValid, string.Join('\n', result.Errors));
        Assert.Equal("0.0.0.0:9464", result.Config.Metrics.Listen);
    }

    [Fact]
    public void Parse_NoContainerTable_LeavesExitOnFailedToTheMode()
    {
        Assert.Equal(ContainerConfig.Default, Parse("").Config!.Container);
        Assert.Null(ContainerConfig.Default.ExitOnFailed);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    public void Parse_ContainerExitOnFailed_IsRead(string value, bool expected)
    {
        var result = Parse($"[container]\nexit_on_failed = {value}\n");

        Assert.True(result.IsValid, string.Join('\n', result.Errors));
        Assert.Equal(expected, result.Config.Container.ExitOnFailed);
    }

    [Theory]
    [InlineData("exit_on_failed = \"true\"", "clusterd.toml:2:18: container: 'exit_on_failed' must be true or false (got a string \"true\"); drop the quotes: exit_on_failed = true")]
    [InlineData("exit_on_failed = 1", "clusterd.toml:2:18: container: 'exit_on_failed' must be true or false (got an integer 1); write exit_on_failed = true or exit_on_failed = false")]
    [InlineData("exit_on_fail = true", "clusterd.toml:2:1: container: unknown key 'exit_on_fail'; did you mean 'exit_on_failed'?")]
    public void Parse_ContainerBadKeyOrValue_IsLocatedWithTheFix(string line, string expected) =>
        AssertSingleError($"[container]\n{line}\n", expected);

    [Fact]
    public void Parse_MinReady_DefaultsToEveryWorkerAndIsCappedAtDesired()
    {
        var group = SingleGroup("""
            [groups.web]
            command = ["/bin/app"]
            workers = 4
            """);

        Assert.Null(group.MinReady);
        Assert.Equal(4, group.RequiredReady(4));
        Assert.Equal(2, group.RequiredReady(2)); // scaled down: never more than the group runs
    }

    [Fact]
    public void Parse_MinReady_IsReadAndMayBeZero()
    {
        Assert.Equal(2, SingleGroup("[groups.web]\ncommand = [\"/bin/app\"]\nworkers = 4\nmin_ready = 2\n").MinReady);
        var none = SingleGroup("[groups.web]\ncommand = [\"/bin/app\"]\nworkers = 4\nmin_ready = 0\n");
        Assert.Equal(0, none.RequiredReady(4));
    }

    [Fact]
    public void Parse_MinReadyAboveWrittenWorkers_IsAnError() =>
        AssertSingleError("[groups.web]\ncommand = [\"/bin/app\"]\nworkers = 2\nmin_ready = 3\n",
            "clusterd.toml:4:13: group 'web': 'min_ready' (3) is more than the group's 2 workers, so it could never be ready; lower it to at most 2, or remove it to require every worker");

    [Fact]
    public void Parse_MinReadyAboveAutoWorkers_IsCappedNotRefused()
    {
        // "auto" is 2 on this host and 64 on the next: the file stays valid on both.
        var group = SingleGroup("[groups.web]\ncommand = [\"/bin/app\"]\nworkers = \"auto\"\nmin_ready = 3\n", processorCount: 2);

        Assert.Equal(3, group.MinReady);
        Assert.Equal(2, group.RequiredReady(group.Workers));
    }

    [Fact]
    public void Parse_MinReadyNegative_IsAnError() =>
        AssertSingleError("[groups.web]\ncommand = [\"/bin/app\"]\nmin_ready = -1\n",
            "clusterd.toml:3:13: group 'web': 'min_ready' must be >= 0 (got -1); write e.g. min_ready = 1");

    [Fact]
    public void Parse_WorkersSource_SaysWhereTheCountCameFrom()
    {
        Assert.Equal("config", SingleGroup("[groups.web]\ncommand = [\"/bin/app\"]\nworkers = 3\n").WorkersSource);
        Assert.Equal("config", SingleGroup("[groups.web]\ncommand = [\"/bin/app\"]\n").WorkersSource);
        var cpus = new AvailableCpus(2, "cgroup CPU quota of 1.5 CPUs (/sys/fs/cgroup/cpu.max \"150000 100000\"), rounded up");
        var result = ConfigLoader.Parse("[groups.web]\ncommand = [\"/bin/app\"]\nworkers = \"auto\"\n", File, cpus);

        var group = Assert.Single(result.Config!.Groups);
        Assert.Equal(2, group.Workers);
        Assert.Equal("auto: " + cpus.Source, group.WorkersSource);
    }

    [Fact]
    public void Parse_RelativeControlSocket_IsRefused()
    {
        var result = Parse("[control]\nsocket = \"ctl.sock\"\n");

        var error = Assert.Single(result.Errors);
        Assert.Equal(2, error.Line);
        Assert.Contains("absolute path", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ListenAddresses_ParseToEndPoints()
    {
        var group = SingleGroup("""
            [groups.web]
            command = ["/bin/app"]
            listen = ["127.0.0.1:8080", "[::1]:8080", "unix:/run/web.sock"]
            """);

        Assert.Equal(["127.0.0.1:8080", "[::1]:8080", "unix:/run/web.sock"], group.Listen.Select(l => l.Text));
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 8080), group.Listen[0].EndPoint);
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 8080), group.Listen[1].EndPoint);
        Assert.False(group.Listen[1].IsUnix);
        Assert.True(group.Listen[2].IsUnix);
    }

    [Fact]
    public void Parse_InlineDottedAndSubTable_AllMergeIntoTheGroup()
    {
        var group = SingleGroup("""
            [groups.web]
            command = ["/bin/app"]
            backoff.initial = "1s"
            backoff.factor = 3

            [groups.web.env]
            A = "1"
            B = "2"
            """);

        Assert.Equal(new BackoffConfig(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 3.0), group.Backoff);
        Assert.Equal(new Dictionary<string, string> { ["A"] = "1", ["B"] = "2" }, group.Env);
    }

    [Fact]
    public void Parse_TopLevelDottedGroup_IsAccepted()
    {
        var group = SingleGroup("""groups.web.command = ["/bin/app"]""");

        Assert.Equal("web", group.Name);
    }

    [Fact]
    public void Parse_GroupsInDocumentOrder_AreKeptInOrder()
    {
        var result = Parse("""
            [groups.b]
            command = ["/bin/b"]
            [groups.a]
            command = ["/bin/a"]
            """);

        Assert.Equal(["b", "a"], result.Config!.Groups.Select(g => g.Name));
    }

    [Theory]
    [InlineData("SIGTERM", 15, "SIGTERM")]
    [InlineData("TERM", 15, "SIGTERM")]
    [InlineData("sigint", 2, "SIGINT")]
    [InlineData("QUIT", 3, "SIGQUIT")]
    [InlineData("SIGHUP", 1, "SIGHUP")]
    [InlineData("SIGKILL", 9, "SIGKILL")]
    [InlineData("WINCH", 28, "SIGWINCH")]
    public void Parse_StopSignal_MapsNameToNumber(string name, int number, string canonical)
    {
        var group = SingleGroup($"""
            [groups.web]
            command = ["/bin/app"]
            stop_signal = "{name}"
            """);

        Assert.Equal(number, group.StopSignal);
        Assert.Equal(canonical, group.StopSignalName);
    }

    [Fact]
    public void Parse_Workers0_ReportsExactLocationAndFix() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            workers = 0
            """,
            "clusterd.toml:3:11: group 'web': 'workers' must be >= 1 or \"auto\" (got 0); set workers = \"auto\" or a positive count");

    [Fact]
    public void Parse_WorkersString_NamesExpectedType() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            workers = "four"
            """,
            "clusterd.toml:3:11: group 'web': 'workers' must be an integer or \"auto\" (got a string \"four\"); set workers = \"auto\" or a positive count");

    [Fact]
    public void Parse_WorkersTooMany_ReportsLimit() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            workers = 5000
            """,
            "clusterd.toml:3:11: group 'web': 'workers' must be <= 4096 (got 5000); use a smaller count or \"auto\"");

    [Fact]
    public void Parse_CommandMissing_ReportsAtGroupName() =>
        AssertSingleError("""
            [groups.web]
            workers = 2
            """,
            "clusterd.toml:1:9: group 'web': 'command' is required; add e.g. command = [\"/usr/bin/node\", \"server.js\"]");

    [Fact]
    public void Parse_CommandString_SuggestsArray() =>
        AssertSingleError("""
            [groups.web]
            command = "/usr/bin/node server.js"
            """,
            "clusterd.toml:2:11: group 'web': 'command' must be an array of strings, not a string (no shell is involved); use an array, e.g. command = [\"/usr/bin/node\", \"server.js\"]");

    [Fact]
    public void Parse_CommandEmpty_ReportsError() =>
        AssertSingleError("""
            [groups.web]
            command = []
            """,
            "clusterd.toml:2:11: group 'web': 'command' must not be empty; name the program to run, e.g. command = [\"/usr/bin/node\", \"server.js\"]");

    [Fact]
    public void Parse_CommandNonStringElement_ReportsAtElement() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app", 3]
            """,
            "clusterd.toml:2:24: group 'web': 'command' elements must be strings (got an integer 3); quote it");

    [Fact]
    public void Parse_UnknownGroupKey_SuggestsClosest() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            wokers = 2
            """,
            "clusterd.toml:3:1: group 'web': unknown key 'wokers'; did you mean 'workers'?");

    [Fact]
    public void Parse_UnknownGroupKeyFarFromAll_ListsValidKeys()
    {
        var error = Assert.Single(Errors("""
            [groups.web]
            command = ["/bin/app"]
            colour = "blue"
            """));

        Assert.StartsWith("clusterd.toml:3:1: group 'web': unknown key 'colour'; remove it (valid keys: command, workers,", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownTopLevelTable_SuggestsGroups() =>
        AssertSingleError("""
            [group.web]
            command = ["/bin/app"]
            """,
            "clusterd.toml:1:2: unknown table 'group'; did you mean 'groups'?");

    [Fact]
    public void Parse_GroupKeyAtTopLevel_SaysToMoveIt() =>
        AssertSingleError("workers = 2\n",
            "clusterd.toml:1:1: 'workers' is a group setting but appears outside any group; move it under a [groups.NAME] table");

    [Fact]
    public void Parse_ArrayOfGroupTables_IsRejected() =>
        AssertSingleError("""
            [[groups]]
            command = ["/bin/app"]
            """,
            "clusterd.toml:1:3: 'groups' must be a table of named groups, not an array of tables; write [groups.NAME] instead of [[groups]]");

    [Fact]
    public void Parse_InvalidGroupName_ReportsNameAndFix() =>
        AssertSingleError("""
            [groups."my web"]
            command = ["/bin/app"]
            """,
            "clusterd.toml:1:9: group name 'my web' is invalid: use only letters, digits, '_' and '-', e.g. [groups.my_web]");

    [Theory]
    [InlineData("\"localhost:8080\"", "'listen' address \"localhost:8080\" is invalid: host must be an IP address, not a name; use \"127.0.0.1:8080\" (or \"[::1]:8080\" for IPv6)")]
    [InlineData("\"example.com:80\"", "'listen' address \"example.com:80\" is invalid: host 'example.com' is not an IP address; clusterd binds literal addresses only, e.g. \"0.0.0.0:80\" or \"[::]:80\"")]
    [InlineData("\"127.1:80\"", "'listen' address \"127.1:80\" is invalid: host '127.1' is not an IP address; clusterd binds literal addresses only, e.g. \"0.0.0.0:80\" or \"[::]:80\"")]
    [InlineData("\"127.0.0.1:0\"", "'listen' address \"127.0.0.1:0\" is invalid: port 0 is not allowed: workers must share one known port; pick a fixed port such as 8080")]
    [InlineData("\"127.0.0.1:70000\"", "'listen' address \"127.0.0.1:70000\" is invalid: port 70000 is out of range; use a port from 1 to 65535")]
    [InlineData("\"127.0.0.1:http\"", "'listen' address \"127.0.0.1:http\" is invalid: port 'http' is not a number; use a port from 1 to 65535")]
    [InlineData("\"127.0.0.1\"", "'listen' address \"127.0.0.1\" is invalid: missing port; write it as \"HOST:PORT\", e.g. \"127.0.0.1:8080\"")]
    [InlineData("\"::1:8080\"", "'listen' address \"::1:8080\" is invalid: IPv6 addresses must be in brackets; write it as \"[::1]:8080\"")]
    [InlineData("\"[::1]\"", "'listen' address \"[::1]\" is invalid: missing port; write it as \"[::1]:PORT\", e.g. \"[::1]:8080\"")]
    [InlineData("\"[127.0.0.1]:80\"", "'listen' address \"[127.0.0.1]:80\" is invalid: '127.0.0.1' is not an IPv6 address; brackets are only for IPv6, e.g. \"[::1]:8080\"")]
    [InlineData("\"unix:run/web.sock\"", "'listen' address \"unix:run/web.sock\" is invalid: unix socket path must be absolute; write it as \"unix:/run/web.sock\"")]
    [InlineData("8080", "'listen' entries must be strings (got an integer 8080); write e.g. listen = [\"127.0.0.1:8080\"]")]
    public void Parse_BadListenEntry_ReportsAtEntry(string entry, string message) =>
        AssertSingleError($"""
            [groups.web]
            command = ["/bin/app"]
            listen = ["127.0.0.1:1", {entry}]
            """,
            $"clusterd.toml:3:26: group 'web': {message}");

    [Fact]
    public void Parse_ListenUnixPathTooLong_ReportsByteCount()
    {
        var path = "/" + new string('a', 120);
        var error = Assert.Single(Errors($"""
            [groups.web]
            command = ["/bin/app"]
            listen = ["unix:{path}"]
            """));

        Assert.StartsWith($"clusterd.toml:3:11: group 'web': 'listen' address \"unix:{path}\" is invalid: unix socket path is 121 bytes, the limit is", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ListenString_SuggestsArray() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            listen = "127.0.0.1:8080"
            """,
            "clusterd.toml:3:10: group 'web': 'listen' must be an array of addresses, not a string; write listen = [\"127.0.0.1:8080\"]");

    [Fact]
    public void Parse_ListenDuplicateInGroup_ReportsSecondOccurrence() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            listen = ["127.0.0.1:8080", "127.0.0.1:8080"]
            """,
            "clusterd.toml:3:29: group 'web': 'listen' address \"127.0.0.1:8080\" is listed twice (first at 3:11); remove the duplicate");

    [Fact]
    public void Parse_ListenSpelledDifferentlyButSameEndPoint_IsDuplicate() =>
        Assert.Contains("is listed twice", Assert.Single(Errors("""
            [groups.web]
            command = ["/bin/app"]
            listen = ["[::1]:8080", "[0:0::1]:8080"]
            """)), StringComparison.Ordinal);

    [Fact]
    public void Parse_ListenSharedBetweenGroups_ReportsOnSecondGroup() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            listen = ["127.0.0.1:8080"]

            [groups.api]
            command = ["/bin/api"]
            listen = ["unix:/run/api.sock", "127.0.0.1:8080"]
            """,
            "clusterd.toml:7:33: group 'api': 'listen' address \"127.0.0.1:8080\" is already used by group 'web' (at 3:11); give each group its own address");

    [Fact]
    public void Parse_SharingUnknown_ListsChoices() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            sharing = "balanced"
            """,
            "clusterd.toml:3:11: group 'web': 'sharing' must be \"reuseport\" or \"shared\" (got \"balanced\"); write e.g. sharing = \"reuseport\"");

    [Fact]
    public void Parse_RestartTypo_SuggestsChoice() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            restart = "on_failure"
            """,
            "clusterd.toml:3:11: group 'web': 'restart' must be \"always\", \"on-failure\" or \"never\" (got \"on_failure\"); did you mean \"on-failure\"?");

    [Fact]
    public void Parse_ReadyWrongType_NamesChoices() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            ready = true
            """,
            "clusterd.toml:3:9: group 'web': 'ready' must be \"notify\", \"started\" or \"health\" (got a boolean true); write e.g. ready = \"notify\"");

    [Fact]
    public void Parse_ReadyTimeoutZero_MustBePositive() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            ready_timeout = "0s"
            """,
            "clusterd.toml:3:17: group 'web': 'ready_timeout' must be greater than 0; use e.g. ready_timeout = \"30s\"");

    [Fact]
    public void Parse_DurationBareInteger_AsksForUnit() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            stop_timeout = 10
            """,
            "clusterd.toml:3:16: group 'web': 'stop_timeout' must be a duration string with a unit (got an integer 10); use a string like \"250ms\", \"30s\" or \"5m\"");

    [Fact]
    public void Parse_DurationUnknownUnit_ExplainsUnits() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            restart_window = "1d"
            """,
            "clusterd.toml:3:18: group 'web': 'restart_window' is not a valid duration: unknown unit 'd' in \"1d\" (units are ms, s, m, h); use a string like \"250ms\", \"30s\" or \"5m\"");

    [Fact]
    public void Parse_WatchdogAndMinUptimeZero_AreAllowed()
    {
        var group = SingleGroup("""
            [groups.web]
            command = ["/bin/app"]
            watchdog_timeout = 0
            min_uptime = "0"
            """);

        Assert.Equal(TimeSpan.Zero, group.WatchdogTimeout);
        Assert.Equal(TimeSpan.Zero, group.MinUptime);
    }

    [Fact]
    public void Parse_CwdRelative_MustBeAbsolute() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            cwd = "srv/web"
            """,
            "clusterd.toml:3:7: group 'web': 'cwd' must be an absolute path (got \"srv/web\"); write e.g. cwd = \"/srv/web\"");

    [Fact]
    public void Parse_UserNotString_NamesType() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            user = 33
            """,
            "clusterd.toml:3:8: group 'web': 'user' must be a string (got an integer 33); e.g. user = \"www-data\"");

    [Fact]
    public void Parse_EnvNumber_SuggestsQuotes() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            env = { PORT = 8080 }
            """,
            "clusterd.toml:3:16: group 'web': env 'PORT' must be a string (got an integer 8080); quote it: PORT = \"8080\"");

    [Theory]
    [InlineData("LISTEN_FDS")]
    [InlineData("LISTEN_PID")]
    [InlineData("LISTEN_FDNAMES")]
    [InlineData("NOTIFY_SOCKET")]
    [InlineData("SYSTEMD_EXEC_PID")]
    [InlineData("CLUSTERD_GROUP")]
    [InlineData("CLUSTERD_WORKER")]
    [InlineData("CLUSTERD_GENERATION")]
    public void Parse_EnvReservedName_IsRejected(string name) =>
        AssertSingleError($"""
            [groups.web]
            command = ["/bin/app"]

            [groups.web.env]
            {name} = "3"
            """,
            $"clusterd.toml:5:1: group 'web': env '{name}' is set by clusterd for every worker and cannot be overridden; remove it");

    [Fact]
    public void Parse_EnvNotTable_ShowsInlineTableSyntax() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            env = ["A=1"]
            """,
            "clusterd.toml:3:7: group 'web': 'env' must be a table of strings (got an array); write e.g. env = { NODE_ENV = \"production\" }");

    [Fact]
    public void Parse_BackoffMaxBelowInitial_ReportsAtMax() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            backoff = { initial = "5s", max = "1s" }
            """,
            "clusterd.toml:3:35: group 'web': 'backoff.max' (1s) must be >= 'backoff.initial' (5s); raise max or lower initial");

    [Fact]
    public void Parse_BackoffFactorBelowOne_ReportsAtFactor() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            backoff = { factor = 0.5 }
            """,
            "clusterd.toml:3:22: group 'web': 'backoff.factor' must be >= 1.0 (got 0.5); use 2.0 to double the delay after each crash, 1.0 for a constant delay");

    [Fact]
    public void Parse_BackoffInitialZero_MustBePositive() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            backoff = { initial = "0s" }
            """,
            "clusterd.toml:3:23: group 'web': 'backoff.initial' must be greater than 0; use e.g. initial = \"100ms\"");

    [Fact]
    public void Parse_BackoffUnknownKey_SuggestsClosest() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            backoff = { inital = "1s" }
            """,
            "clusterd.toml:3:13: group 'web': unknown key 'backoff.inital'; did you mean 'backoff.initial'?");

    [Fact]
    public void Parse_MaxRestartsNegative_ReportsError() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            max_restarts = -1
            """,
            "clusterd.toml:3:16: group 'web': 'max_restarts' must be >= 0 (got -1); write e.g. max_restarts = 10");

    [Fact]
    public void Parse_StopSignalTypo_SuggestsName() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            stop_signal = "SIGTREM"
            """,
            "clusterd.toml:3:15: group 'web': 'stop_signal' \"SIGTREM\" is not a known signal; did you mean \"SIGTERM\"?");

    [Fact]
    public void Parse_StopSignalNumber_AsksForName() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            stop_signal = 15
            """,
            "clusterd.toml:3:15: group 'web': 'stop_signal' must be a signal name string (got an integer 15); write e.g. stop_signal = \"SIGTERM\"");

    [Fact]
    public void Parse_MetricsListenInvalid_ReportsAtValue() =>
        AssertSingleError("""
            [metrics]
            listen = "localhost:9464"
            """,
            "clusterd.toml:2:10: metrics: 'listen' address \"localhost:9464\" is invalid: host must be an IP address, not a name; use \"127.0.0.1:9464\" (or \"[::1]:9464\" for IPv6)");

    [Fact]
    public void Parse_ControlUnknownKey_Suggests() =>
        AssertSingleError("""
            [control]
            sockt = "/run/x.sock"
            """,
            "clusterd.toml:2:1: control: unknown key 'sockt'; did you mean 'socket'?");

    [Fact]
    public void Parse_ManyMistakes_ReportsAllInFileOrder()
    {
        var errors = Errors("""
            [groups.web]
            workers = 0
            listen = ["localhost:80"]
            stop_signal = "NOPE"

            [groups.api]
            command = "api"
            """);

        Assert.Equal(5, errors.Length);
        Assert.StartsWith("clusterd.toml:1:9: group 'web': 'command' is required", errors[0], StringComparison.Ordinal);
        Assert.StartsWith("clusterd.toml:2:11: group 'web': 'workers'", errors[1], StringComparison.Ordinal);
        Assert.StartsWith("clusterd.toml:3:11: group 'web': 'listen' address \"localhost:80\"", errors[2], StringComparison.Ordinal);
        Assert.StartsWith("clusterd.toml:4:15: group 'web': 'stop_signal' \"NOPE\"", errors[3], StringComparison.Ordinal);
        Assert.StartsWith("clusterd.toml:7:11: group 'api': 'command' must be an array", errors[4], StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_AnyError_ConfigIsNull()
    {
        var result = Parse("[groups.web]\n");

        Assert.False(result.IsValid);
        Assert.Null(result.Config);
        Assert.NotEmpty(result.Errors);
    }

    [Fact]
    public void Parse_SyntaxError_ReportsOneBasedPosition() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            workers =
            user = "app"
            """,
            "clusterd.toml:3:10: invalid TOML: Unexpected token end-of-line found while expecting a value");

    [Fact]
    public void Parse_UnclosedArray_ReportsAtEndOfFileNotLineOne()
    {
        var errors = Errors("[groups.web]\ncommand = [\"/bin/app\",\n");

        Assert.NotEmpty(errors);
        Assert.All(errors, e => Assert.StartsWith("clusterd.toml:3:1: invalid TOML:", e, StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_DuplicateKey_ReportsSecondDefinition() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            command = ["/bin/other"]
            """,
            "clusterd.toml:3:1: 'groups.web.command' is already defined at line 2; TOML allows each key and table once, so merge or remove the duplicate");

    [Fact]
    public void Parse_DuplicateTable_ReportsSecondHeader()
    {
        var errors = Errors("""
            [groups.web]
            command = ["/bin/app"]
            [groups.web]
            workers = 2
            """);

        Assert.Equal("clusterd.toml:3:1: 'groups.web' is already defined at line 1; TOML allows each key and table once, so merge or remove the duplicate", errors[0]);
    }

    [Fact]
    public void Load_MissingFile_ReportsPathAtLineOne()
    {
        var path = Path.Combine(Path.GetTempPath(), $"clusterd-missing-{Guid.NewGuid():N}.toml");

        var result = ConfigLoader.Load(path);

        var error = Assert.Single(result.Errors);
        Assert.Null(result.Config);
        Assert.Equal((path, 1, 1), (error.File, error.Line, error.Column));
        Assert.Contains($"cannot read config file '{path}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Could not find", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_CrLfLineEndings_PositionsMatchLf()
    {
        var result = ConfigLoader.Parse("[groups.web]\r\ncommand = [\"/bin/app\"]\r\nworkers = 0\r\n", File, AvailableCpus.Assumed(8));

        var error = Assert.Single(result.Errors);
        Assert.Equal((3, 11), (error.Line, error.Column));
    }

    [Fact]
    public void Parse_TopLevelDottedKey_ReportsAtValue() =>
        AssertSingleError("""
            groups.web.command = ["/bin/app"]
            groups.web.workers = -2
            """,
            "clusterd.toml:2:22: group 'web': 'workers' must be >= 1 or \"auto\" (got -2); set workers = \"auto\" or a positive count");

    [Fact]
    public void Parse_UnknownKeyInDottedGroup_ReportsAtLastSegment() =>
        AssertSingleError("""
            groups.web.command = ["/bin/app"]
            groups.web.wrkers = 2
            """,
            "clusterd.toml:2:12: group 'web': unknown key 'wrkers'; did you mean 'workers'?");

    [Theory]
    [InlineData("user = \"www\\u0000data\"", 3, 8, "www\\u0000data")]
    [InlineData("command = [\"/bin/app\", \"--x\\u0000\"]", 2, 24, "--x\\u0000")]
    [InlineData("env = { \"A\\u0000B\" = \"1\" }", 3, 9, "A\\u0000B")]
    [InlineData("backoff = { initial = \"1s\\u0000\" }", 3, 23, "1s\\u0000")]
    public void Parse_NulInKeyOrValue_IsReportedAtTheString(string line, int lineNumber, int column, string shown)
    {
        var toml = line.StartsWith("command", StringComparison.Ordinal)
            ? $"[groups.web]\n{line}\n"
            : $"[groups.web]\ncommand = [\"/bin/app\"]\n{line}\n";

        AssertSingleError(toml,
            $"clusterd.toml:{lineNumber}:{column}: \"{shown}\" contains a NUL character; remove it (names, paths and arguments end at a NUL, so the rest would be lost)");
    }

    [Fact]
    public void Parse_NulInTableName_StopsBeforeTheSchema()
    {
        // Without the stop, the missing 'command' and the group name would be two more errors about a name nobody wrote.
        var errors = Errors("""
            [groups."w\u0000"]
            workers = 2
            [control]
            socket = "/run/\u0000"
            """);

        Assert.Equal([
            "clusterd.toml:1:9: \"w\\u0000\" contains a NUL character; remove it (names, paths and arguments end at a NUL, so the rest would be lost)",
            "clusterd.toml:4:10: \"/run/\\u0000\" contains a NUL character; remove it (names, paths and arguments end at a NUL, so the rest would be lost)",
        ], errors);
    }

    [Fact]
    public void Parse_RawNulByte_IsATomlErrorOnOneLine()
    {
        var error = Assert.Single(Parse("[groups.web]\ncommand = [\"/bin/a\0pp\"]\n").Errors);

        Assert.Equal((2, 12), (error.Line, error.Column));
        Assert.StartsWith("invalid TOML: ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(error.Message, char.IsControl);
    }

    [Fact]
    public void Parse_NewlineAndEscapeInAQuotedValue_AreEscapedSoTheErrorIsOneLine() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            stop_signal = "SIG\nTERM\u001b[2J"
            """,
            "clusterd.toml:3:15: group 'web': 'stop_signal' \"SIG\\nTERM\\u001B[2J\" is not a known signal; use one of SIGHUP, SIGINT, SIGQUIT, SIGABRT, SIGKILL, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM, SIGCONT, SIGSTOP, SIGTSTP, SIGWINCH");

    [Fact]
    public void Parse_ControlCharacterInAnUnknownKey_IsEscaped() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            "x\ty" = 1
            """,
            "clusterd.toml:3:1: group 'web': unknown key 'x\\ty'; remove it (valid keys: command, workers, min_ready, listen, sharing, ready, ready_timeout, min_uptime, user, group, cwd, env, restart, backoff, max_restarts, restart_window, stop_signal, stop_timeout, watchdog_timeout, drain_delay, max_memory, memory_max, max_lifetime, health, logs)");

    [Theory]
    [InlineData("[", "]")]
    [InlineData("{ a = ", "}")]
    public void Parse_NestedDeeperThanTheLimit_IsReportedAtTheBracketThatGoesOver(string open, string close)
    {
        var value = string.Concat(Enumerable.Repeat(open, 17)) + "1" + string.Concat(Enumerable.Repeat(close, 17));
        var column = "command = ".Length + (open.Length * 16) + 1;

        AssertSingleError($"[groups.web]\ncommand = {value}\n",
            $"clusterd.toml:2:{column}: arrays and inline tables may nest at most 16 deep; flatten this value");
    }

    [Fact]
    public void Parse_NestedToTheLimit_IsReadAsToml()
    {
        var value = new string('[', 16) + "1" + new string(']', 16);

        var error = Assert.Single(Errors($"[groups.web]\ncommand = {value}\n"));

        Assert.Contains("'command' elements must be strings (got an array)", error, StringComparison.Ordinal);
    }

    private static string Groups(int count) =>
        string.Concat(Enumerable.Range(1, count).Select(i => $"[groups.g{i}]\ncommand = [\"/bin/app\"]\n"));

    [Fact]
    public void Parse_MaxGroups_IsValid() =>
        Assert.Equal(ClusterConfig.MaxGroups, Parse(Groups(ClusterConfig.MaxGroups)).Config?.Groups.Count);

    [Fact]
    public void Parse_OneGroupMoreThanTheMax_IsReportedAtThatGroupOnly() =>
        AssertSingleError(Groups(ClusterConfig.MaxGroups + 2),
            "clusterd.toml:129:9: group 'g65' is one more than the 64 groups clusterd supervises; merge groups that run the same program, or give the rest a clusterd of their own");

    private static string Listen(int count) =>
        string.Join(", ", Enumerable.Range(1, count).Select(i => $"\"127.0.0.1:{8000 + i}\""));

    [Fact]
    public void Parse_MaxListenAddresses_IsValid() =>
        Assert.Equal(GroupConfig.MaxListen, SingleGroup($"[groups.web]\ncommand = [\"/bin/app\"]\nlisten = [{Listen(GroupConfig.MaxListen)}]\n").Listen.Count);

    [Fact]
    public void Parse_MoreListenAddressesThanTheMax_IsReportedAtTheFirstOneOver() =>
        AssertSingleError($"[groups.web]\ncommand = [\"/bin/app\"]\nlisten = [{Listen(18)}]\n",
            "clusterd.toml:3:299: group 'web': 'listen' has 18 addresses, more than 16; each is one more fd in every worker, so listen on fewer (\"0.0.0.0:PORT\" takes every IPv4 interface)");

    [Fact]
    public void Parse_ReusePortSocketsOverTheBudget_NamesTheCountAndTheFix() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            workers = 4096
            sharing = "reuseport"
            listen = ["127.0.0.1:8080", "unix:/run/web.sock", "[::1]:8080"]
            """,
            "clusterd.toml:5:10: group 'web': 'listen' needs 8193 listening sockets (4096 workers × 2 TCP addresses: each worker has its own socket in reuseport mode), " +
            "and all groups together may open at most 4096 (0 taken by the groups above); set sharing = \"shared\" for one socket per address, or use fewer workers or addresses");

    [Theory]
    [InlineData("workers = 4096\nsharing = \"shared\"\nlisten = [\"127.0.0.1:8080\", \"[::1]:8080\"]")]
    [InlineData("workers = 4095\nsharing = \"reuseport\"\nlisten = [\"127.0.0.1:8080\", \"unix:/run/web.sock\"]")]
    public void Parse_SocketsWithinTheBudget_AreValid(string settings) =>
        SingleGroup($"[groups.web]\ncommand = [\"/bin/app\"]\n{settings}\n");

    [Fact]
    public void Parse_SocketBudget_IsSharedByAllGroups() =>
        AssertSingleError("""
            [groups.web]
            command = ["/bin/app"]
            workers = 3000
            sharing = "reuseport"
            listen = ["127.0.0.1:8080"]

            [groups.api]
            command = ["/bin/api"]
            workers = 2000
            sharing = "reuseport"
            listen = ["127.0.0.1:9090"]
            """,
            "clusterd.toml:11:10: group 'api': 'listen' needs 2000 listening sockets (2000 workers × 1 TCP addresses: each worker has its own socket in reuseport mode), " +
            "and all groups together may open at most 4096 (3000 taken by the groups above); set sharing = \"shared\" for one socket per address, or use fewer workers or addresses");

    [Theory]
    [InlineData("0.5ms")]
    [InlineData("0.999ms")]
    public void Parse_BackoffInitialBelowTheFloor_IsRefused(string initial) =>
        AssertSingleError($"[groups.web]\ncommand = [\"/bin/app\"]\nbackoff = {{ initial = \"{initial}\" }}\n",
            $"clusterd.toml:3:23: group 'web': 'backoff.initial' must be at least 1ms (got \"{initial}\"): a shorter delay respawns a worker that dies at once in a tight loop; use e.g. initial = \"100ms\"");

    [Fact]
    public void Parse_BackoffInitialAtTheFloor_IsValid() =>
        Assert.Equal(TimeSpan.FromMilliseconds(1), SingleGroup("[groups.web]\ncommand = [\"/bin/app\"]\nbackoff = { initial = \"1ms\" }\n").Backoff.Initial);

    [Fact]
    public void Parse_MaxRestartsOverTheMax_IsRefused() =>
        AssertSingleError("[groups.web]\ncommand = [\"/bin/app\"]\nmax_restarts = 2147483647\n",
            "clusterd.toml:3:16: group 'web': 'max_restarts' must be <= 1000 (got 2147483647); write e.g. max_restarts = 10");

    [Fact]
    public void Parse_MaxRestartsAtTheMax_IsValid() =>
        Assert.Equal(1000, SingleGroup("[groups.web]\ncommand = [\"/bin/app\"]\nmax_restarts = 1000\n").MaxRestarts);

    [Theory]
    [InlineData("workers = 9223372036854775807", "clusterd.toml:3:11: group 'web': 'workers' must be <= 4096 (got 9223372036854775807); use a smaller count or \"auto\"")]
    [InlineData("workers = -9223372036854775808", "clusterd.toml:3:11: group 'web': 'workers' must be >= 1 or \"auto\" (got -9223372036854775808); set workers = \"auto\" or a positive count")]
    [InlineData("max_restarts = -9223372036854775808", "clusterd.toml:3:16: group 'web': 'max_restarts' must be >= 0 (got -9223372036854775808); write e.g. max_restarts = 10")]
    [InlineData("workers = 9223372036854775808", "clusterd.toml:3:11: invalid TOML: Unable to parse integer `9223372036854775808`")]
    public void Parse_IntegerAtTheEdgeOfInt64_IsALocatedError(string line, string expected) =>
        AssertSingleError($"[groups.web]\ncommand = [\"/bin/app\"]\n{line}\n", expected);

    [Theory]
    [InlineData("a = \"\\")]
    [InlineData("a = \"x\\u12")]
    [InlineData("a = \"\"\"\\U0001")]
    [InlineData("[\"\\")]
    public void Parse_TextEndingInsideAnEscape_IsATomlErrorNotAnException(string text)
    {
        var errors = Parse(text).Errors;

        Assert.NotEmpty(errors);
        Assert.All(errors, e => Assert.StartsWith("invalid TOML: ", e.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void ConfigError_ToString_IsFileLineColumnMessage() =>
        Assert.Equal("a.toml:12:5: boom; fix it", new ConfigError("a.toml", 12, 5, "boom; fix it").ToString());

    private static readonly HostFacts s_notRoot = new(CanSwitchUsers: false, Uid: 1000, _ => null, _ => null);

    private static readonly HostFacts s_root = new(CanSwitchUsers: true, Uid: 0,
        user => user == "www-data" ? null : "no such user; create it",
        group => group == "adm" ? null : "no such group; create it");

    [Fact]
    public void Parse_UserWhenClusterdCannotSwitchUsers_IsAnErrorAtTheValue()
    {
        var errors = ConfigLoader.Parse("[groups.web]\ncommand = [\"/bin/web\"]\nuser = \"www-data\"\ngroup = \"adm\"\n", "c.toml", AvailableCpus.Assumed(2), s_notRoot)
            .Errors.Select(e => e.ToString()).ToArray();

        Assert.Equal(2, errors.Length);
        Assert.StartsWith("c.toml:3:8: group 'web': 'user' = \"www-data\" needs clusterd to run as root", errors[0], StringComparison.Ordinal);
        Assert.Contains("(it runs as uid 1000)", errors[0], StringComparison.Ordinal);
        Assert.StartsWith("c.toml:4:9: group 'web': 'group' = \"adm\" needs clusterd to run as root", errors[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownUserOrGroup_IsAnErrorNamingIt()
    {
        var errors = ConfigLoader.Parse("[groups.web]\ncommand = [\"/bin/web\"]\nuser = \"wwwdata\"\ngroup = \"admin\"\n", "c.toml", AvailableCpus.Assumed(2), s_root)
            .Errors.Select(e => e.ToString()).ToArray();

        Assert.Equal(["c.toml:3:8: group 'web': 'user' = \"wwwdata\": no such user; create it",
            "c.toml:4:9: group 'web': 'group' = \"admin\": no such group; create it"], errors);
    }

    [Fact]
    public void Parse_KnownUserAsRoot_IsValid() =>
        Assert.True(ConfigLoader.Parse("[groups.web]\ncommand = [\"/bin/web\"]\nuser = \"www-data\"\n", "c.toml", AvailableCpus.Assumed(2), s_root).IsValid);

    [Fact]
    public void Parse_EnvSettingWatchdogVariables_IsRefusedLikeTheOtherReservedNames()
    {
        var errors = Errors("[groups.web]\ncommand = [\"/bin/web\"]\nenv = { WATCHDOG_USEC = \"1\", WATCHDOG_PID = \"1\" }\n");

        Assert.Equal(2, errors.Length);
        Assert.All(errors, e => Assert.Contains("is set by clusterd for every worker", e, StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_WorkerHealth_IsReadWithItsDefaults()
    {
        var group = SingleGroup("[groups.web]\ncommand = [\"/bin/web\"]\nready = \"health\"\nmax_memory = \"512MiB\"\nmax_lifetime = \"6h\"\n" +
            "[groups.web.health]\nhttp = \"/healthz\"\nstart_period = \"5s\"\n");

        Assert.Equal(ReadyMode.Health, group.Ready);
        Assert.Equal((512L << 20, (long?)null, TimeSpan.FromHours(6)), (group.Health.MaxMemory, group.Health.MemoryMax, group.Health.MaxLifetime));
        Assert.Equal(new HealthCheckConfig(HealthCheckKind.Http, "/healthz", null, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2), 3, TimeSpan.FromSeconds(5)),
            group.Health.Check);
    }

    [Fact]
    public void Parse_NoHealthKeys_IsNone() =>
        Assert.Equal(WorkerHealthConfig.None, SingleGroup("[groups.web]\ncommand = [\"/bin/web\"]\n").Health);

    [Fact]
    public void Parse_HealthCommand_KeepsTheArgv()
    {
        var check = SingleGroup("[groups.web]\ncommand = [\"/bin/web\"]\nhealth = { command = [\"/bin/check\", \"-q\"], failures = 5 }\n").Health.Check!;

        Assert.Equal((HealthCheckKind.Command, 5), (check.Kind, check.Failures));
        Assert.Equal(["/bin/check", "-q"], check.Command);
    }

    [Fact]
    public void Parse_GroupNameLongerThan64_IsRefused()
    {
        var name = new string('g', 65);

        var error = Assert.Single(Errors($"[groups.{name}]\ncommand = [\"/bin/web\"]\n"));

        Assert.Contains("is 65 characters long; use at most 64", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NoLogsTable_GroupsGetTheDefaults()
    {
        var result = Parse("""
            [groups.web]
            command = ["/usr/bin/web"]
            """);

        Assert.Equal(LogsConfig.Default, Assert.Single(result.Config!.Groups).Logs);
        Assert.Equal(LogFormat.Text, result.Config.LogFormat);
        Assert.Equal(LogTarget.Auto, LogsConfig.Default.Target);
        Assert.Equal(10L << 20, LogsConfig.Default.MaxSize);
        Assert.Equal(5, LogsConfig.Default.Keep);
        Assert.True(LogsConfig.Default.Compress);
        Assert.Null(LogsConfig.Default.RateLimit);
    }

    [Fact]
    public void Parse_GroupLogsTable_OverridesOnlyTheKeysItSets()
    {
        var result = Parse("""
            [groups.web]
            command = ["/usr/bin/web"]
            logs = { keep = 2, rate_limit = "60/m" }

            [logs]
            target = "file"
            file = "/srv/logs/{group}.log"
            max_size = "1MiB"
            format = "json"
            """);

        Assert.Empty(result.Errors);
        var logs = Assert.Single(result.Config!.Groups).Logs;
        Assert.Equal(new LogsConfig(LogTarget.File, "/srv/logs/{group}.log", 1L << 20, 2, true, new LogRateLimit(1, 60)), logs);
        Assert.Equal(LogFormat.Json, result.Config.LogFormat);
    }

    [Theory]
    [InlineData("\"1000/s\"", "", 1000, 1000)]
    [InlineData("\"1000/s\"", "burst = 50", 1000, 50)]
    [InlineData("\" 30 / m \"", "", 0.5, 30)]
    [InlineData("\"7200/h\"", "", 2, 7200)]
    public void Parse_RateLimit_IsLinesPerSecondWithBurst(string rate, string burst, double perSecond, int expectedBurst)
    {
        var group = SingleGroup($$"""
            [groups.web]
            command = ["/usr/bin/web"]

            [groups.web.logs]
            rate_limit = {{rate}}
            {{burst}}
            """);

        Assert.Equal(new LogRateLimit(perSecond, expectedBurst), group.Logs.RateLimit);
    }
}
