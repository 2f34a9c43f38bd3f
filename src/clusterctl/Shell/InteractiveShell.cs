using System.CommandLine;
using System.CommandLine.Parsing;

namespace Clusterctl.Shell;

/// <summary>
/// <c>clusterctl shell</c>: a read-eval-print loop over the same RootCommand as the command line (minus <c>shell</c>),
/// keeping one connection to clusterd open for the session and reconnecting when it breaks. At a terminal it uses
/// <see cref="LineEditor"/> (history, Tab completion); otherwise it reads plain lines without a prompt, so a script or
/// a test can pipe commands in.
/// </summary>
internal sealed class InteractiveShell(CliContext cli)
{
    private const string Prompt = "clusterctl> ";

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        cli.KeepConnection = true;
        var root = Program.BuildRootCommand(cli, includeShell: false);
        var interactive = cli.StdinIsTerminal && cli.StdoutIsTerminal;
        var editor = interactive ? new LineEditor(Prompt, (line, cursor) => Complete(root, line, cursor)) : null;
        if (interactive)
        {
            await cli.Out.WriteLineAsync("clusterctl shell: 'help' lists the commands, Tab completes, 'exit' or Ctrl-D leaves.");
        }
        var last = ExitCodes.Ok;
        while (!cancellationToken.IsCancellationRequested)
        {
            var line = editor is not null ? editor.ReadLine() : await cli.In.ReadLineAsync(cancellationToken);
            if (line is null)
            {
                break;
            }
            var args = CommandLineParser.SplitCommandLine(line).ToArray();
            if (args.Length == 0 || args[0].StartsWith('#'))
            {
                continue;
            }
            switch (args[0])
            {
                case "exit" or "quit":
                    return last;
                case "help" or "?":
                    args = args.Length > 1 ? [.. args[1..], "--help"] : ["--help"];
                    break;
                case "shell":
                    await cli.Err.WriteLineAsync("clusterctl: already in the shell");
                    continue;
            }
            last = await Program.InvokeAsync(root.Parse(args), cli, cancellationToken);
            if (args[0] == "reload")
            {
                // The set of groups may have changed; ask the daemon again at the next Tab.
                cli.CachedGroups = null;
            }
        }
        if (editor is not null)
        {
            await cli.Out.WriteLineAsync();
        }
        return last;
    }

    /// <summary>
    /// Completion candidates for the word under the cursor, from System.CommandLine itself (command names, options,
    /// and group names through the GROUP arguments' completion sources, which use the session's cached status).
    /// </summary>
    internal static IReadOnlyList<string> Complete(RootCommand root, string line, int cursor)
    {
        var before = line[..cursor];
        var wordStart = before.LastIndexOf(' ') + 1;
        var word = before[wordStart..];
        var candidates = root.Parse(before).GetCompletions(cursor).Select(c => c.InsertText ?? c.Label)
            // Options only once the user starts one: a bare Tab should offer what to type next, not twenty flags.
            .Where(c => !c.StartsWith('/') && (!c.StartsWith('-') || word.StartsWith('-')));
        if (wordStart == 0)
        {
            candidates = candidates.Concat(["help", "exit", "quit"]);
        }
        return [.. candidates.Where(c => c.StartsWith(word, StringComparison.Ordinal)).Distinct().Order(StringComparer.Ordinal)];
    }
}
