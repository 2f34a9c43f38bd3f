using System.CommandLine;
using Clusterd.Protocol.Messages;
using Clusterctl.Connection;

namespace Clusterctl;

/// <summary>
/// What one run of clusterctl (a command line, or a whole shell session) shares: where output goes, whether it is a
/// terminal, and, in the shell, the open connection to clusterd. Commands never touch <see cref="Console"/> directly,
/// which is what lets the tests drive them in-process.
/// </summary>
internal sealed class CliContext(TextWriter stdout, TextWriter stderr, Func<TextReader> stdin, bool stdoutIsTerminal, bool stdinIsTerminal)
    : IAsyncDisposable
{
    private readonly Lazy<TextReader> _in = new(stdin);
    private DaemonConnection? _connection;
    private CancellationTokenSource? _interruptible;

    public TextWriter Out { get; } = stdout;

    public TextWriter Err { get; } = stderr;

    /// <summary>stdin, made on first use: only the shell reads it.</summary>
    public TextReader In => _in.Value;

    public bool StdoutIsTerminal { get; } = stdoutIsTerminal;

    public bool StdinIsTerminal { get; } = stdinIsTerminal;

    /// <summary>Colour only for a human at a terminal, and never when NO_COLOR is set (https://no-color.org).</summary>
    public bool Color { get; } = stdoutIsTerminal && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));

    /// <summary>True inside the shell: keep the connection for the next command instead of closing it.</summary>
    public bool KeepConnection { get; set; }

    /// <summary>The group names of the last status the shell saw, for Tab completion without a round trip per key.</summary>
    public IReadOnlyList<string>? CachedGroups { get; set; }

    /// <summary>The socket given to <c>clusterctl --socket PATH shell</c>: every line of that shell uses it unless it names another.</summary>
    public string? SocketOverride { get; set; }

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
    /// Runs a command's body with a connection, and turns every failure into its exit code and one line on stderr.
    /// Cancellation by the caller (Ctrl-C) is a clean stop: <see cref="ExitCodes.Ok"/>.
    /// </summary>
    public async Task<int> RunAsync(ParseResult parseResult, Func<DaemonConnection, CancellationToken, Task<int>> body,
        CancellationToken cancellationToken)
    {
        try
        {
            var connection = await ConnectAsync(parseResult, cancellationToken);
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

    private async Task<DaemonConnection> ConnectAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var path = ResolveSocket(parseResult);
        if (_connection is not null && (_connection.SocketPath != path || !_connection.Healthy))
        {
            await DropConnectionAsync();
        }
        _connection ??= await DaemonConnection.ConnectAsync(path, parseResult.GetValue(GlobalOptions.Timeout) ?? GlobalOptions.DefaultTimeout, cancellationToken);
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
