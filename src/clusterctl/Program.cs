using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Runtime.InteropServices;
using Clusterctl.Commands;
using Clusterctl.Platform;
using Clusterctl.Shell;

namespace Clusterctl;

/// <summary>
/// clusterctl: a thin System.CommandLine shell over <see cref="Clusterd.Protocol.ControlClient"/>. Each sub-command has one
/// factory (as dotnet-counters does); the protocol lives in Clusterd.Protocol so the CLI and the daemon cannot drift apart.
/// </summary>
internal static class Program
{
    private const int StdoutBufferSize = 64 * 1024;

    public static async Task<int> Main(string[] args)
    {
        // Console.Out goes through a 256-char buffer: a status of 1000 workers (~100 KB) was ~500 write(2)s. This writer
        // flushes at the end of every call just as Console.Out does, so the order against stderr and the shell's prompt
        // is unchanged; only one call's text now leaves in one piece. Synchronized, as Console.Out is, so that its async
        // methods write at once on the caller's thread: StreamWriter's own go through tasks, and clusterctl's startup
        // once paid for two thread-pool threads that way. stdout itself is written with write(2) (StandardOutputStream).
        using var stdout = TextWriter.Synchronized(
            new StreamWriter(new StandardOutputStream(), Console.OutputEncoding, StdoutBufferSize) { AutoFlush = true });
        // Console.In only when the shell reads it: at a terminal, making it sets the terminal up (terminfo, keypad mode).
        await using var cli = new CliContext(stdout, Console.Error, () => Console.In,
            stdoutIsTerminal: !Console.IsOutputRedirected, stdinIsTerminal: !Console.IsInputRedirected,
            binaryStdio: () => (Console.OpenStandardInput(), new StandardOutputStream()));
        return await RunAsync(args, cli, CancellationToken.None, catchInterrupts: true);
    }

    /// <summary>The test seam: runs one command line with its output captured, never touching the real console.</summary>
    internal static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, TextReader stdin, CancellationToken cancellationToken)
    {
        await using var cli = new CliContext(stdout, stderr, () => stdin, stdoutIsTerminal: false, stdinIsTerminal: false);
        return await RunAsync(args, cli, cancellationToken);
    }

    /// <param name="catchInterrupts">Whether Ctrl-C is this process's to handle (the real console, not a test).</param>
    internal static async Task<int> RunAsync(string[] args, CliContext cli, CancellationToken cancellationToken, bool catchInterrupts = false)
    {
        var parseResult = ParseWithoutHelp(args, cli) ?? BuildRootCommand(cli, includeShell: true).Parse(args);
        // Ctrl-C stops the running command (a --follow, a long restart) and lets it exit 0; with nothing running
        // (at a piped shell's read) it keeps its default meaning and ends the process. A signal registration rather
        // than Console.CancelKeyPress, which would set the terminal up for this too. A command of one round trip keeps
        // the default meaning throughout: the registration's thread and pipe cost it more than its whole answer.
        using var interrupt = catchInterrupts && !AnswersAtOnce(parseResult)
            ? PosixSignalRegistration.Create(PosixSignal.SIGINT, context => context.Cancel = cli.Interrupt())
            : null;
        if (cli.StdinIsTerminal && cli.StdoutIsTerminal && IsOnlyMissingCommand(parseResult))
        {
            // Bare `clusterctl` (perhaps with --socket or --host) at a terminal is what someone exploring types: give them the
            // shell, not an error.
            cli.KeepTarget(parseResult);
            return await new InteractiveShell(cli).RunAsync(cancellationToken);
        }
        return await InvokeAsync(parseResult, cli, cancellationToken);
    }

    /// <summary>Commands of one request and one answer, with nothing open-ended to wait for: Ctrl-C simply ends them.</summary>
    internal static readonly string[] OneRoundTripCommands = ["status", "ping", "version", "health", "signal", "completion"];

    private static bool AnswersAtOnce(ParseResult parseResult) =>
        parseResult.Action is not ParseErrorAction && OneRoundTripCommands.Contains(parseResult.CommandResult.Command.Name);

    private static bool IsOnlyMissingCommand(ParseResult parseResult) =>
        parseResult.Action is ParseErrorAction
        && parseResult.CommandResult.Command is RootCommand
        && parseResult.UnmatchedTokens.Count == 0
        && parseResult.Errors.Count == 1;

    /// <summary>
    /// Invokes a parse result with clusterctl's exit codes: a parse error is a usage error (100), not System.CommandLine's 1,
    /// because 1 means "clusterd said no" and scripts must be able to tell the two apart.
    /// </summary>
    internal static async Task<int> InvokeAsync(ParseResult parseResult, CliContext cli, CancellationToken cancellationToken)
    {
        if (parseResult.Action is ParseErrorAction)
        {
            var errors = parseResult.Errors.ToList();
            if (errors.Count > 1)
            {
                // "bogus" yields both "Unrecognized command 'bogus'" and "Required command was not provided"; the first says it all.
                errors.RemoveAll(e => e.Message.StartsWith("Required command", StringComparison.Ordinal));
            }
            foreach (var error in errors)
            {
                await cli.Err.WriteLineAsync($"clusterctl: {error.Message}");
            }
            var command = parseResult.CommandResult.Command;
            var name = command is RootCommand ? "clusterctl" : $"clusterctl {command.Name}";
            await cli.Err.WriteLineAsync($"Try '{name} --help' for usage.");
            return ExitCodes.Usage;
        }
        var source = cli.BeginInterruptible(cancellationToken);
        try
        {
            var configuration = new InvocationConfiguration
            {
                Output = cli.Out,
                Error = cli.Err,
                // CliContext.RunAsync maps exceptions to exit codes; Ctrl-C goes through CliContext.Interrupt, so
                // System.CommandLine must neither print its own stack traces nor install its own signal handler.
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            };
            return await parseResult.InvokeAsync(configuration, source.Token);
        }
        finally
        {
            cli.EndInterruptible(source);
            source.Dispose();
        }
    }

    /// <summary>Every command, in the order help lists them, by the name each is created with (ProgramTests checks).</summary>
    internal static readonly (string Name, Func<CliContext, Command> Create)[] Commands =
    [
        ("status", StatusCommand.Create),
        ("restart", RestartCommand.Create),
        ("reload", ReloadCommand.Create),
        ("upgrade", UpgradeCommand.Create),
        ("scale", ChangeCommands.Scale),
        ("stop", ChangeCommands.Stop),
        ("start", ChangeCommands.Start),
        ("signal", ChangeCommands.Signal),
        ("events", StreamCommands.Events),
        ("logs", StreamCommands.Logs),
        ("version", InfoCommands.Version),
        ("ping", InfoCommands.Ping),
        ("health", HealthCommand.Create),
        ("dial-stdio", DialStdioCommand.Create),
        ("completion", CompletionCommand.Create),
        ("shell", ShellCommand),
    ];

    /// <summary>
    /// Parses a command line that needs no help, version, directive or error message without building the RootCommand,
    /// whose constructor reads the help texts through a ResourceManager: ~44 of the ~265 page faults of a
    /// <c>clusterctl ping</c>, on a VM where a fault costs ~50 µs (BENCHMARKS.md, Control). Only the commands the line
    /// names are built: a token can only be classified as a command whose name it is. Null for the lines that need the
    /// full tree: a parse error, no command, a directive (completion's <c>[suggest]</c>: a plain Command would ignore
    /// it), or the help or version option named. Stand-ins with their names, arity and reach see to it that every token
    /// is classified as the real tree classifies it (<c>-h</c> is never taken for an argument's value); the caller parses
    /// those lines again with <see cref="BuildRootCommand"/>, which gives them System.CommandLine's own help and messages.
    /// </summary>
    internal static ParseResult? ParseWithoutHelp(IReadOnlyList<string> args, CliContext cli)
    {
        var help = new Option<bool>("--help", "-h", "/h", "-?", "/?") { Arity = ArgumentArity.Zero, Recursive = true };
        var version = new Option<bool>("--version") { Arity = ArgumentArity.Zero };
        var root = new Command(RootCommand.ExecutableName) { help, version };
        AddGlobalOptions(root);
        foreach (var (name, create) in Commands)
        {
            if (args.Contains(name))
            {
                root.Add(create(cli));
            }
        }
        var parseResult = root.Parse(args);
        return parseResult.Errors.Count == 0 && parseResult.CommandResult.Command != root && !Named(help) && !Named(version)
            && !parseResult.Tokens.Any(token => token.Type == TokenType.Directive)
            ? parseResult
            : null;

        // A bool option has a result, marked implicit, whether named or not.
        bool Named(Option option) => parseResult.GetResult(option) is { Implicit: false };
    }

    internal static RootCommand BuildRootCommand(CliContext cli, bool includeShell)
    {
        var root = new RootCommand("Control clusterd: inspect and change its groups of workers. With no command at a terminal, starts the shell.");
        AddGlobalOptions(root);
        foreach (var (name, create) in Commands)
        {
            if (includeShell || name != "shell")
            {
                root.Add(create(cli));
            }
        }
        foreach (var option in root.Options)
        {
            if (option is HelpOption { Action: HelpAction help } helpOption)
            {
                helpOption.Action = new HelpWithExitCodesAction(help);
            }
        }
        return root;
    }

    private static void AddGlobalOptions(Command root)
    {
        root.Add(GlobalOptions.Socket);
        root.Add(GlobalOptions.Json);
        root.Add(GlobalOptions.Timeout);
        root.Add(GlobalOptions.Host);
    }

    private static Command ShellCommand(CliContext cli)
    {
        var command = new Command("shell", "Interactive prompt into the running clusterd: the same commands, plus help, history and Tab completion");
        command.SetAction((parseResult, ct) =>
        {
            cli.KeepTarget(parseResult);
            return new InteractiveShell(cli).RunAsync(ct);
        });
        return command;
    }

    /// <summary>The default help, then the exit codes: they are part of every command's contract.</summary>
    private sealed class HelpWithExitCodesAction(HelpAction inner) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            inner.Invoke(parseResult);
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine(ExitCodes.HelpText);
            output.WriteLine();
            return ExitCodes.Ok;
        }
    }
}
