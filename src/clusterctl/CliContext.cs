using System.CommandLine;
using System.Globalization;
using Clusterd.Protocol.Messages;
using Clusterctl.Connection;
using Clusterctl.Output;

namespace Clusterctl;

/// <summary>
/// What one run of clusterctl (a command line, or a whole shell session) shares: where output goes, whether it is a
/// terminal, and, in the shell, the open connection to clusterd. Commands never touch <see cref="Console"/> directly,
/// which is what lets the tests drive them in-process.
/// </summary>
/// <param name="binaryStdio">stdin and stdout as byte streams, for <c>dial-stdio</c>; none in contexts that only print.</param>
internal sealed class CliContext(TextWriter stdout, TextWriter stderr, Func<TextReader> stdin, bool stdoutIsTerminal, bool stdinIsTerminal,
    Func<(Stream In, Stream Out)>? binaryStdio = null)
    : IAsyncDisposable
{
    private readonly Lazy<TextReader> _in = new(stdin);
    private DaemonConnection? _connection;
    private string? _connectionKey;
    private CancellationTokenSource? _interruptible;

    public TextWriter Out { get; } = stdout;

    public TextWriter Err { get; } = stderr;

    /// <summary>stdin, made on first use: only the shell reads it.</summary>
    public TextReader In => _in.Value;

    public bool StdoutIsTerminal { get; } = stdoutIsTerminal;

    /// <summary>stdin and stdout as bytes, opened when asked for (only dial-stdio relays bytes).</summary>
    public (Stream In, Stream Out) OpenBinaryStdio() =>
        binaryStdio?.Invoke() ?? throw new InvalidOperationException("this context has no binary stdin/stdout");

    public bool StdinIsTerminal { get; } = stdinIsTerminal;

    /// <summary>Colour only for a human at a terminal, and never when NO_COLOR is set (https://no-color.org).</summary>
    public bool Color { get; } = stdoutIsTerminal && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));

    /// <summary>True inside the shell: keep the connection for the next command instead of closing it.</summary>
    public bool KeepConnection { get; set; }

    /// <summary>The group names of the last status the shell saw, for Tab completion without a round trip per key.</summary>
    public IReadOnlyList<string>? CachedGroups { get; set; }

    /// <summary>The socket given to <c>clusterctl --socket PATH shell</c>: every line of that shell uses it unless it names another.</summary>
    public string? SocketOverride { get; set; }

    /// <summary>The hosts given to <c>clusterctl --host URL shell</c>: every line of that shell goes there unless it names others.</summary>
    public IReadOnlyList<SshHost>? HostsOverride { get; set; }

    /// <summary>How a connection to a --host is made: over ssh; tests give a stand-in transport.</summary>
    internal Func<SshHost, TimeSpan, string?, CancellationToken, Task<DaemonConnection>> ConnectSsh { get; init; } =
        (host, timeout, remoteSocket, _) => Task.FromResult(DaemonConnection.Connect(host, timeout, remoteSocket));

    /// <summary>Makes the shell started by this command line keep its --socket and --host for every line.</summary>
    public void KeepTarget(ParseResult parseResult)
    {
        SocketOverride = parseResult.GetValue(GlobalOptions.Socket);
        HostsOverride = GlobalOptions.NamedHosts(parseResult) is { Length: > 0 } hosts ? hosts : null;
    }

    /// <summary>--socket, else the shell's socket, else $CLUSTERD_SOCKET, else the platform default that clusterd also uses.</summary>
    public string ResolveSocket(ParseResult parseResult) =>
        parseResult.GetValue(GlobalOptions.Socket) is { Length: > 0 } path ? path : SocketOverride ?? GlobalOptions.DefaultSocket();

    /// <summary>
    /// Makes Ctrl-C cancel what runs until <see cref="EndInterruptible"/>: the whole command line, or one line of the shell.
    /// </summary>
    public CancellationTokenSource BeginInterruptible(CancellationToken outer)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(outer);
        Volatile.Write(ref _interruptible, source);
        return source;
    }

    public void EndInterruptible(CancellationTokenSource source) => Interlocked.CompareExchange(ref _interruptible, null, source);

    /// <summary>Called from the Ctrl-C handler. False when nothing is running, so Ctrl-C keeps its default meaning.</summary>
    public bool Interrupt()
    {
        var source = Volatile.Read(ref _interruptible);
        if (source is null)
        {
            return false;
        }
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The command finished between the key press and here; there is nothing left to stop.
        }
        return true;
    }

    /// <summary>
    /// Runs a command's body with a connection to the one clusterd the command line names (the local socket, or one
    /// --host), and turns every failure into its exit code and one line on stderr. Commands that change clusterd, and
    /// follows, use it: given several hosts they are refused rather than fanned out (docs/remote.md says why).
    /// Cancellation by the caller (Ctrl-C) is a clean stop: <see cref="ExitCodes.Ok"/>.
    /// </summary>
    public Task<int> RunAsync(ParseResult parseResult, Func<DaemonConnection, CancellationToken, Task<int>> body,
        CancellationToken cancellationToken) =>
        GuardAsync(async () =>
        {
            var hosts = ResolveHosts(parseResult);
            if (hosts.Count > 1)
            {
                throw new CliException(ExitCodes.Usage,
                    $"'{parseResult.CommandResult.Command.Name}' runs on one host at a time (it changes clusterd, or follows a stream), and "
                    + string.Create(CultureInfo.InvariantCulture, $"{hosts.Count} hosts were given; run it once per host, in the order you choose"));
            }
            return await RunOnAsync(parseResult, hosts.Count == 0 ? null : hosts[0], body, cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// Runs a read command's body on every host at once (or once, locally): each host's output is collected apart, then
    /// printed in the order the hosts were given with every line prefixed by the host (JSON objects gain a "host"
    /// field). The exit code is the worst of the hosts'. The body writes to the context it is given, not to this one.
    /// </summary>
    public Task<int> RunOnEachAsync(ParseResult parseResult, Func<CliContext, DaemonConnection, CancellationToken, Task<int>> body,
        CancellationToken cancellationToken) =>
        GuardAsync(async () =>
        {
            var hosts = ResolveHosts(parseResult);
            if (hosts.Count <= 1)
            {
                return await RunOnAsync(parseResult, hosts.Count == 0 ? null : hosts[0], (c, ct) => body(this, c, ct), cancellationToken);
            }
            var results = await Task.WhenAll(hosts.Select(async host =>
            {
                using var stdout = new StringWriter { NewLine = Out.NewLine };
                using var stderr = new StringWriter { NewLine = Err.NewLine };
                await using var one = new CliContext(stdout, stderr, () => TextReader.Null, StdoutIsTerminal, stdinIsTerminal: false)
                {
                    ConnectSsh = ConnectSsh,
                };
                var code = await one.GuardAsync(() => one.RunOnAsync(parseResult, host, (c, ct) => body(one, c, ct), cancellationToken), cancellationToken);
                return (host.Label, Code: code, Out: stdout.ToString(), Err: stderr.ToString());
            }));
            var width = results.Max(r => r.Label.Length);
            var json = parseResult.GetValue(GlobalOptions.Json);
            foreach (var result in results)
            {
                await Out.WriteAsync(HostPrefix.Apply(result.Out, result.Label, width, json, Out.NewLine));
                await Err.WriteAsync(HostPrefix.Apply(result.Err, result.Label, width, json: false, Err.NewLine));
            }
            return results.Max(r => r.Code);
        }, cancellationToken);

    /// <summary>--host (each may be a comma list), else the shell's hosts, else $CLUSTERD_HOST; none means the local socket.</summary>
    public IReadOnlyList<SshHost> ResolveHosts(ParseResult parseResult)
    {
        if (GlobalOptions.NamedHosts(parseResult) is { Length: > 0 } hosts)
        {
            return hosts;
        }
        if (HostsOverride is not null)
        {
            return HostsOverride;
        }
        var fromEnvironment = Environment.GetEnvironmentVariable(SshHost.EnvironmentVariable);
        if (string.IsNullOrEmpty(fromEnvironment))
        {
            return [];
        }
        return GlobalOptions.TryParseHosts([fromEnvironment], out var parsed, out var error)
            ? parsed
            : throw new CliException(ExitCodes.Usage, $"${SshHost.EnvironmentVariable}: {error}");
    }

    /// <summary>Runs <paramref name="body"/> and maps what it throws to exit codes and a line on stderr.</summary>
    public async Task<int> GuardAsync(Func<Task<int>> body, CancellationToken cancellationToken)
    {
        try
        {
            return await body();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }
        catch (CliException ex)
        {
            await Err.WriteLineAsync($"clusterctl: {ex.Message}");
            return ex.ExitCode;
        }
#pragma warning disable CA1031 // The last line of defence: any other exception is a clusterctl bug, reported as such with exit 101.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            await Err.WriteLineAsync($"clusterctl: internal error: {ex}");
            await Err.WriteLineAsync("This is a bug in clusterctl; please report it with the command line that caused it.");
            return ExitCodes.Internal;
        }
    }

    private async Task<int> RunOnAsync(ParseResult parseResult, SshHost? host, Func<DaemonConnection, CancellationToken, Task<int>> body,
        CancellationToken cancellationToken)
    {
        var connection = await ConnectAsync(parseResult, host, cancellationToken);
        try
        {
            return await body(connection, cancellationToken);
        }
        finally
        {
            if (!KeepConnection || !connection.Healthy)
            {
                await DropConnectionAsync();
            }
        }
    }

    /// <summary>A new connection to the clusterd the command line names (after it closed the last one: an upgrade's exec).</summary>
    public async Task<DaemonConnection> ReconnectAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        await DropConnectionAsync();
        var hosts = ResolveHosts(parseResult);
        return await ConnectAsync(parseResult, hosts.Count == 0 ? null : hosts[0], cancellationToken);
    }

    private async Task<DaemonConnection> ConnectAsync(ParseResult parseResult, SshHost? host, CancellationToken cancellationToken)
    {
        var timeout = parseResult.GetValue(GlobalOptions.Timeout) ?? GlobalOptions.DefaultTimeout;
        if (host is null)
        {
            var path = ResolveSocket(parseResult);
            return await ReuseOrConnectAsync(path, () => Task.FromResult(DaemonConnection.Connect(path, timeout)));
        }
        var remoteSocket = parseResult.GetValue(GlobalOptions.Socket) is { Length: > 0 } given ? given : SocketOverride;
        if (remoteSocket is not null && !SshHost.IsShellSafePath(remoteSocket))
        {
            throw new CliException(ExitCodes.Usage,
                $"--socket '{remoteSocket}' cannot be passed to the far side: with --host it must be a path of letters, digits and / . _ + -");
        }
        return await ReuseOrConnectAsync($"{host} {remoteSocket}", () => ConnectSsh(host, timeout, remoteSocket, cancellationToken));
    }

    /// <summary>The shell's open connection if it still goes where <paramref name="key"/> says and works; else a new one.</summary>
    private async Task<DaemonConnection> ReuseOrConnectAsync(string key, Func<Task<DaemonConnection>> connect)
    {
        if (_connection is not null && (_connectionKey != key || !_connection.Healthy))
        {
            await DropConnectionAsync();
        }
        if (_connection is null)
        {
            _connection = await connect();
            _connectionKey = key;
        }
        return _connection;
    }

    private async Task DropConnectionAsync()
    {
        if (_connection is { } connection)
        {
            _connection = null;
            try
            {
                await connection.DisposeAsync();
            }
            catch (IOException)
            {
                // Closing a connection the daemon already dropped: nothing left to release.
            }
        }
    }

    /// <summary>Remembers group names for shell completion whenever a status goes by.</summary>
    public void Remember(StatusData? status)
    {
        if (status is not null && KeepConnection)
        {
            CachedGroups = [.. status.Groups.Select(g => g.Name)];
        }
    }

    public async ValueTask DisposeAsync() => await DropConnectionAsync();
}
