using System.CommandLine;

namespace Clusterctl.Commands;

/// <summary>
/// <c>clusterctl completion bash|zsh|fish</c>: prints a script that asks clusterctl itself what to complete, through
/// System.CommandLine's <c>[suggest:POSITION]</c> directive. The scripts hold no command list, so they never go stale;
/// group names come from the running daemon (see <see cref="GroupArguments"/>).
/// </summary>
internal static class CompletionCommand
{
    private const string Bash = """
        # bash completion for clusterctl. Install: clusterctl completion bash > ~/.local/share/bash-completion/completions/clusterctl
        # (or add `source <(clusterctl completion bash)` to ~/.bashrc)
        _clusterctl_complete() {
            local IFS=$'\n'
            local line="${COMP_LINE:0:COMP_POINT}"
            local suggestions
            suggestions=$("${COMP_WORDS[0]}" "[suggest:${#line}]" "$line" 2>/dev/null)
            COMPREPLY=( $(compgen -W "$suggestions" -- "${COMP_WORDS[COMP_CWORD]}") )
        }
        complete -o default -F _clusterctl_complete clusterctl
        """;

    private const string Zsh = """
        #compdef clusterctl
        # zsh completion for clusterctl. Install: clusterctl completion zsh > "${fpath[1]}/_clusterctl"
        # (or add `source <(clusterctl completion zsh)` to ~/.zshrc after compinit)
        _clusterctl() {
          local line="${words[1,CURRENT]}"
          local -a suggestions
          suggestions=(${(f)"$(${words[1]} "[suggest:${#line}]" "$line" 2>/dev/null)"})
          compadd -a suggestions
        }
        if [[ "$funcstack[1]" == "_clusterctl" ]]; then _clusterctl "$@"; else compdef _clusterctl clusterctl; fi
        """;

    private const string Fish = """
        # fish completion for clusterctl. Install: clusterctl completion fish > ~/.config/fish/completions/clusterctl.fish
        function __clusterctl_complete
            set -l line (commandline -cp)
            clusterctl "[suggest:"(string length -- "$line")"]" "$line" 2>/dev/null
        end
        complete -c clusterctl -f -a '(__clusterctl_complete)'
        """;

    public static Command Create(CliContext cli)
    {
        var shell = new Argument<string>("SHELL") { HelpName = "bash|zsh|fish", Description = "bash, zsh or fish" };
        shell.AcceptOnlyFromAmong("bash", "zsh", "fish");
        var command = new Command("completion", "Print a shell completion script (commands, options and the daemon's group names)") { shell };
        command.SetAction(async (parseResult, ct) =>
        {
            var script = parseResult.GetRequiredValue(shell) switch
            {
                "bash" => Bash,
                "zsh" => Zsh,
                _ => Fish,
            };
            await cli.Out.WriteLineAsync(script.AsMemory(), ct);
            return ExitCodes.Ok;
        });
        return command;
    }
}
