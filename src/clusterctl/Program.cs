using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Runtime.InteropServices;
using Clusterctl.Commands;
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
        // methods write at once on the caller's thread: the console stream has no async writes of its own, and the
        // default ones start thread-pool threads for every line (and clusterctl's startup paid for two of them).
        using var stdout = TextWriter.Synchronized(
            new StreamWriter(Console.OpenStandardOutput(), Console.OutputEncoding, StdoutBufferSize) { AutoFlush = true });
        // Console.In only when the shell reads it: at a terminal, making it sets the terminal up (terminfo, keypad mode).
        await using var cli = new CliContext(stdout, Console.Error, () => Console.In,
            stdoutIsTerminal: !Console.IsOutputRedirected, stdinIsTerminal: !Console.IsInputRedirected,
            binaryStdio: () => (Console.OpenStandardInput(), Console.OpenStandardOutput()));
        // Ctrl-C stops the running command (a --follow, a long restart) and lets it exit 0; with nothing running
        // (at a piped shell's read) it keeps its default meaning and ends the process. A signal registration rather
        // than Console.CancelKeyPress, which would set the terminal up for this too.
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => context.Cancel = cli.Interrupt());
        return await RunAsync(args, cli, CancellationToken.None);
    }

    /// <summary>The test seam: runs one command line with its output captured, never touching the real console.</summary>
    internal static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, TextReader stdin, CancellationToken cancellationToken)
    {
        await using var cli = new CliContext(stdout, stderr, () => stdin, stdoutIsTerminal: false, stdinIsTerminal: false);
        return await RunAsync(args, cli, cancellationToken);
    }

    internal static async Task<int> RunAsync(string[] args, CliContext cli, CancellationToken cancellationToken)
    {
        var root = BuildRootCommand(cli, includeShell: true);
        var parseResult = root.Parse(args);
        if (cli.StdinIsTerminal && cli.StdoutIsTerminal && IsOnlyMissingCommand(parseResult))
        {
            // Bare `clusterctl` (perhaps with --socket or --host) at a terminal is what someone exploring types: give them the
            // shell, not an error.
            cli.KeepTarget(parseResult);
            return await new InteractiveShell(cli).RunAsync(cancellationToken);
        }
        return await InvokeAsync(parseResult, cli, cancellationToken);
    }

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

    internal static RootCommand BuildRootCommand(CliContext cli, bool includeShell)
    {
        var root = new RootCommand("Control clusterd: inspect and change its groups of workers. With no command at a terminal, starts the shell.")
        {
            GlobalOptions.Socket,
            GlobalOptions.Json,
            GlobalOptions.Timeout,
            GlobalOptions.Host,
            StatusCommand.Create(cli),
            RestartCommand.Create(cli),
            ReloadCommand.Create(cli),
            UpgradeCommand.Create(cli),
            ChangeCommands.Scale(cli),
            ChangeCommands.Stop(cli),
            ChangeCommands.Start(cli),
            ChangeCommands.Signal(cli),
            StreamCommands.Events(cli),
            StreamCommands.Logs(cli),
            InfoCommands.Version(cli),
            InfoCommands.Ping(cli),
            HealthCommand.Create(cli),
            DialStdioCommand.Create(cli),
            CompletionCommand.Create(cli),
        };
        if (includeShell)
        {
            root.Add(ShellCommand(cli));
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
