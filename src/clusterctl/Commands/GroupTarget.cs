using System.CommandLine;
using System.CommandLine.Completions;
using System.CommandLine.Parsing;
using System.Globalization;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Clusterd.Protocol.Platform;

using ProtocolCommands = Clusterd.Protocol.Messages.Commands;

namespace Clusterctl.Commands;

/// <summary>A group, optionally narrowed to one slot: <c>web</c> or <c>web/2</c>.</summary>
internal readonly record struct GroupTarget(string Group, int? Slot)
{
    public static bool TryParse(string text, out GroupTarget target, out string error)
    {
        target = default;
        error = "";
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var group = slash < 0 ? text : text[..slash];
        if (group.Length == 0)
        {
            error = $"'{text}' has no group name; use GROUP or GROUP/SLOT, e.g. web or web/2";
            return false;
        }
        if (slash < 0)
        {
            target = new GroupTarget(group, null);
            return true;
        }
        if (!int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var slot))
        {
            error = $"'{text}': the slot after '/' must be a number >= 0, e.g. {group}/2";
            return false;
        }
        target = new GroupTarget(group, slot);
        return true;
    }
}

/// <summary>The GROUP arguments every command shares, with group names offered by shell completion.</summary>
internal static class GroupArguments
{
    /// <summary>Completion must stay snappy even when clusterd is wedged: a short deadline, and silence on any failure.</summary>
    private static readonly TimeSpan s_completionTimeout = TimeSpan.FromSeconds(1);

    public static Argument<string> Group(CliContext cli, string description, bool optional = false, bool allowAll = false)
    {
        var argument = new Argument<string>("GROUP")
        {
            Description = description,
            // Without HelpName, help would list the completions here, and so ask the daemon while printing --help.
            HelpName = allowAll ? "GROUP|all" : "GROUP",
            Arity = optional ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne,
        };
        argument.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && result.Tokens[0].Value.StartsWith('-'))
            {
                // System.CommandLine hands an unknown option to a free-form argument; say what it really is.
                result.AddError($"unrecognized option '{result.Tokens[0].Value}'");
            }
        });
        argument.CompletionSources.Add(context => GroupNames(cli, context, allowAll));
        return argument;
    }

    public static Argument<GroupTarget> Target(CliContext cli, string description) =>
        Target<GroupTarget>(cli, description, ArgumentArity.ExactlyOne, t => t);

    /// <summary>GROUP[/SLOT] that may be left out (null): <c>clusterctl logs</c> of every group.</summary>
    public static Argument<GroupTarget?> OptionalTarget(CliContext cli, string description) =>
        Target<GroupTarget?>(cli, description, ArgumentArity.ZeroOrOne, t => t);

    private static Argument<T> Target<T>(CliContext cli, string description, ArgumentArity arity, Func<GroupTarget, T> wrap)
    {
        var argument = new Argument<T>("GROUP[/SLOT]")
        {
            Description = description,
            HelpName = "GROUP[/SLOT]",
            Arity = arity,
            CustomParser = result =>
            {
                if (result.Tokens.Count == 0 && arity.MinimumNumberOfValues == 0)
                {
                    return default;
                }
                var text = result.Tokens.Count == 0 ? "" : result.Tokens[0].Value;
                if (text.StartsWith('-'))
                {
                    result.AddError($"unrecognized option '{text}'");
                    return default;
                }
                if (GroupTarget.TryParse(text, out var target, out var error))
                {
                    return wrap(target);
                }
                result.AddError(error);
                return default;
            },
        };
        argument.CompletionSources.Add(context => GroupNames(cli, context, allowAll: false));
        return argument;
    }

    private static IEnumerable<string> GroupNames(CliContext cli, CompletionContext context, bool allowAll)
    {
        var names = cli.CachedGroups ?? (GoesToHosts(cli, context.ParseResult) ? [] : QueryGroupNames(cli.ResolveSocket(context.ParseResult)));
        if (cli.KeepConnection && names.Count > 0)
        {
            // In the shell, ask once: Tab is pressed far more often than the set of groups changes (reload clears the cache).
            cli.CachedGroups = names;
        }
        var word = context.WordToComplete;
        var all = allowAll ? names.Prepend("all") : names;
        return all.Where(n => n.StartsWith(word, StringComparison.Ordinal)).Order(StringComparer.Ordinal);
    }

    /// <summary>
    /// Whether the command line names --host (or $CLUSTERD_HOST does): then the local daemon's groups would be the wrong
    /// ones, and an SSH login per Tab too slow, so only the shell's cached names are offered.
    /// </summary>
    private static bool GoesToHosts(CliContext cli, ParseResult parseResult)
    {
        try
        {
            return cli.ResolveHosts(parseResult).Count > 0;
        }
        catch (CliException)
        {
            return true;
        }
    }

    /// <summary>
    /// A synchronous status round trip: completion sources are synchronous, and a blocking socket with timeouts
    /// is honest about that instead of blocking on a task.
    /// </summary>
    internal static IReadOnlyList<string> QueryGroupNames(string socketPath)
    {
        try
        {
            SocketTrust.CheckFile(socketPath);
            using var socket = LocalSocketStream.Connect(socketPath, s_completionTimeout);
            socket.ReadTimeout = socket.WriteTimeout = (int)s_completionTimeout.TotalMilliseconds;
            SocketTrust.CheckPeer(socket);
            var request = RequestWriter.Write(new Request { Id = 1, Command = ProtocolCommands.Status });
            socket.Write(Framing.Encode(request));
            var names = new List<string>();
            Response response;
            do
            {
                var header = new byte[Framing.HeaderSize];
                socket.ReadExactly(header);
                var payload = new byte[Framing.ParseHeader(header)];
                socket.ReadExactly(payload);
                response = ResponseReader.Read(payload);
                names.AddRange(response.Cluster?.Groups.Select(g => g.Name) ?? []);
            }
            while (response.More);
            return [.. names.Distinct(StringComparer.Ordinal)]; // a group split between pages is named in both
        }
#pragma warning disable CA1031 // Completion is best effort: a missing daemon must not print a stack trace into the user's shell.
        catch (Exception)
#pragma warning restore CA1031
        {
            return [];
        }
    }
}
