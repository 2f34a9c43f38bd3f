using System.CommandLine;

namespace Clusterctl.Tests;

/// <summary>
/// <see cref="Program.ParseWithoutHelp"/> skips building the RootCommand for the lines that do not need it: such a line
/// must parse exactly as the full tree parses it, and every other line must be left to the full tree.
/// </summary>
public sealed class ProgramTests
{
    /// <summary>Every command, with each of its options and arguments and the global options before and after it.</summary>
    public static TheoryData<string[]> LinesWithoutHelp =>
    [
        ["status"],
        ["status", "web"],
        ["--json", "status", "web"],
        ["status", "--json", "-s", "/run/x.sock", "--timeout", "500ms"],
        ["-s", "/run/x.sock", "ping"],
        ["ping", "--host", "ssh://a,ssh://b:2222", "-H", "ssh://me@c"],
        ["restart", "all"],
        ["restart", "web", "--max-surge", "2", "--max-unavailable", "0"],
        ["reload", "--dry-run"],
        ["reload", "-n", "--json"],
        ["upgrade", "--binary", "/usr/bin/clusterd"],
        ["scale", "web", "4"],
        ["stop", "web"],
        ["start", "web"],
        ["signal", "web", "HUP"],
        ["signal", "web/2", "SIGUSR1"],
        ["events", "--since", "12", "-f"],
        ["logs"],
        ["logs", "web", "-n", "20", "--stderr", "--since", "30s", "--follow"],
        ["logs", "--reopen"],
        ["version"],
        ["health", "web"],
        ["dial-stdio"],
        ["completion", "bash"],
        ["shell"],
        ["--socket=/run/x.sock", "status"],
        [RootCommand.ExecutableName, "status"],
        ["logs", "status"],
        ["signal", "ping", "HUP"],
    ];

    [Theory]
    [MemberData(nameof(LinesWithoutHelp))]
    public async Task ParseWithoutHelp_LineWithoutHelp_ParsesAsTheFullTreeDoes(string[] args)
    {
        await using var cli = NewCli();
        var full = Program.BuildRootCommand(cli, includeShell: true).Parse(args);
        Assert.Empty(full.Errors);

        var lean = Program.ParseWithoutHelp(args, cli);

        Assert.NotNull(lean);
        // The diagram names the command path and every option and argument with its value; the stand-ins for help and
        // version are bool options, which show as implicit (unnamed) results, and nothing else may differ.
        Assert.Equal(full.ToString(), lean.ToString().Replace(" *[ --help ] *[ --version ]", "", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("-?")]
    [InlineData("/?")]
    [InlineData("status", "-h")]
    [InlineData("signal", "web", "-h")]
    [InlineData("logs", "web", "--help", "--follow")]
    [InlineData("--version")]
    [InlineData("status", "--version")]
    [InlineData("[suggest:13]", "clusterctl st")]
    [InlineData("[suggest:6]", "status")]
    [InlineData("[diagram]", "status")]
    [InlineData("status", "--bogus")]
    [InlineData("bogus")]
    [InlineData("scale", "web")]
    [InlineData]
    public async Task ParseWithoutHelp_LineNeedingHelpVersionADirectiveOrAnError_IsLeftToTheFullTree(params string[] args)
    {
        await using var cli = NewCli();
        Assert.Null(Program.ParseWithoutHelp(args, cli));
    }

    [Fact]
    public async Task ParseWithoutHelp_ResponseFileNamingHelp_IsLeftToTheFullTree()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, "status\n--help\n");
            await using var cli = NewCli();
            Assert.Null(Program.ParseWithoutHelp([$"@{file}"], cli));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Commands_EachName_IsTheNameOfTheCommandItCreates()
    {
        await using var cli = NewCli();
        foreach (var (name, create) in Program.Commands)
        {
            Assert.Equal(name, create(cli).Name);
        }
    }

    [Fact]
    public void OneRoundTripCommands_EachIsACommand()
    {
        var names = Program.Commands.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        Assert.All(Program.OneRoundTripCommands, name => Assert.Contains(name, names));
    }

    private static CliContext NewCli() =>
        new(TextWriter.Null, TextWriter.Null, () => TextReader.Null, stdoutIsTerminal: false, stdinIsTerminal: false);
}
