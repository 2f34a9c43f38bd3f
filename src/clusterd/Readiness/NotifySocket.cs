using System.Net.Sockets;
using System.Runtime.Versioning;
using Clusterd.Platform;
using Microsoft.Extensions.Logging;

namespace Clusterd.Readiness;

/// <summary>
/// A group's NOTIFY_SOCKET: a datagram socket at <c>RUNTIME/notify/GROUP</c>, writable only by the user the group's
/// workers run as (and root), so any other local user, or a worker of a group running as another user, gets EACCES
/// from sendto. A thread off the loop reads it into the group's <see cref="NotifyInbox"/>; each message is attributed
/// to the pid the kernel reports for its sender (SCM_CREDENTIALS), so a process cannot speak for another.
/// The file is clusterd's: it goes when the socket is disposed (group removed, clusterd stopping).
/// </summary>
internal sealed partial class NotifySocket : IDisposable
{
    /// <summary>As systemd: a longer datagram is refused whole (NOTIFY_BUFFER_MAX).</summary>
    public const int MaxDatagram = 4096;

    // Owner rw: write is what sendto(2) needs; read grants nothing on a socket, 0600 is simply what tools expect.
    private const UnixFileMode SocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    // Others may traverse (to reach their own group's socket by its path) but not list the directory.
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    // After an unexpected receive error, this long before reading again: a persistent error logs once a second, not in a spin.
    private static readonly TimeSpan s_retryDelay = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan s_malformedLogInterval = TimeSpan.FromSeconds(10);

    private readonly IDatagramSource _source;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly LogBudget _malformedLog;
    private CancellationTokenSource _stop = new(); // replaced when reading resumes after an upgrade that did not happen
    private Task _receiving;
    private uint? _owner;

    /// <param name="path">The value for NOTIFY_SOCKET; null where nothing is bound (tests).</param>
    /// <param name="owner">The uid the socket was given (null: clusterd's own).</param>
    internal NotifySocket(string? path, uint? owner, IDatagramSource source, Func<NotifySocket, NotifyInbox> inbox, ILogger logger, TimeProvider time)
    {
        Path = path ?? "";
        _owner = owner;
        _source = source;
        _logger = logger;
        _time = time;
        _malformedLog = new LogBudget(time, 5, s_malformedLogInterval);
        Inbox = inbox(this);
        _receiving = ReceiveLoopAsync();
    }

    /// <summary>The value for NOTIFY_SOCKET: an absolute path, which every sd_notify client understands.</summary>
    public string Path { get; }

    public NotifyInbox Inbox { get; }

    /// <summary>Ends when the socket is disposed; never faults (errors are logged and reading goes on).</summary>
    internal Task Receiving => _receiving;

    /// <summary>
    /// Creates <c>DIRECTORY/GROUP</c> (the directory 0711 if clusterd makes it; an existing one must be safe, see
    /// <see cref="RuntimeDirectory"/>), replacing only a stale socket, and gives it to <paramref name="owner"/>.
    /// <paramref name="wake"/> is called when the socket's inbox needs the loop.
    /// </summary>
    /// <exception cref="IOException">The directory is unsafe, something else is at the path, or bind/chown failed.</exception>
    [SupportedOSPlatform("linux")]
    public static NotifySocket Open(string directory, string group, uint? owner, Action<NotifySocket> wake, ILogger logger, TimeProvider time)
    {
        RuntimeDirectory.Ensure(directory, DirectoryMode, "the notify socket directory");
        var path = System.IO.Path.Combine(directory, group);
        SocketFile.Claim(path, $"the notify socket of group '{group}'");
        var socket = CredentialDatagrams.Bind(path, SocketMode);
        try
        {
            FileStatus.ChangeMode(path, SocketMode); // exactly: the umask may have taken more than group and other bits
            if (owner is { } uid)
            {
                FileStatus.ChangeOwner(path, uid, uint.MaxValue);
            }
        }
        catch
        {
            socket.Dispose();
            Remove(path);
            throw;
        }
        var notify = new NotifySocket(path, owner, new KernelSource(socket), s => new NotifyInbox(group, logger, time, ProcessSession.Of, () => wake(s)), logger, time);
        if (owner is { } other && other != UserDatabase.EffectiveUid)
        {
            notify.WarnIfUnreachable([System.IO.Path.GetDirectoryName(directory)!, directory], other);
        }
        return notify;
    }

    /// <summary>
    /// Gives the socket to the user the group's workers now run as (a reload changed <c>user</c>): from then on only
    /// they (and root) can send. A failure is logged: the workers keep running, and those that cannot notify show it.
    /// </summary>
    [SupportedOSPlatform("linux")]
    public void GiveTo(uint? owner)
    {
        if (owner == _owner || Path.Length == 0)
        {
            return;
        }
        try
        {
            FileStatus.ChangeOwner(Path, owner ?? UserDatabase.EffectiveUid, uint.MaxValue);
            _owner = owner;
        }
        catch (IOException e)
        {
            LogChownFailed(Inbox.Group, Path, e.Message);
        }
    }

    /// <summary>Says so when a directory on the way to the socket does not let other users through (a 0750 runtime directory).</summary>
    private void WarnIfUnreachable(string[] directories, uint uid)
    {
        foreach (var directory in directories)
        {
            var status = FileStatus.Of(directory);
            if (status.Kind == FileKind.Directory && status.Uid != uid && (status.Mode & 0x1) == 0) // S_IXOTH
            {
                LogUnreachable(Inbox.Group, uid, directory, Convert.ToString(status.Mode, 8));
                return;
            }
        }
    }

    private async Task ReceiveLoopAsync()
    {
        await Task.Yield(); // the constructor returns at once; reading runs on the thread pool
        var buffer = new byte[MaxDatagram];
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await _source.WaitAsync(_stop.Token);
                while (_source.TryReceive(buffer, out var length, out var pid, out var truncated))
                {
                    if (Parse(buffer.AsSpan(0, length), pid, truncated) is { } message)
                    {
                        while (!Inbox.TryOffer(pid, message))
                        {
                            await Inbox.WaitForRoomAsync(_stop.Token);
                        }
                    }
                }
            }
            catch (Exception e) when (_stop.IsCancellationRequested && e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            catch (Exception e) when (e is IOException or SocketException)
            {
                var retry = RetryDelayAsync(); // armed before it is said, so what reads the log finds the delay running
                LogReceiveFailed(Inbox.Group, e.Message);
                await retry;
            }
            catch (Exception e) // the loop must not die silently, whatever went wrong: a bug is logged as one and reading goes on
            {
                var retry = RetryDelayAsync();
                LogReceiveBug(Inbox.Group, e);
                await retry;
            }
        }
    }

    private async Task RetryDelayAsync()
    {
        try
        {
            await Task.Delay(s_retryDelay, _time, _stop.Token);
        }
        catch (OperationCanceledException)
        {
            // disposed meanwhile: the loop ends
        }
    }

    /// <summary>The message, or null for a datagram that carries nothing to act on (malformed ones are logged).</summary>
    private NotifyMessage? Parse(ReadOnlySpan<byte> datagram, int pid, bool truncated)
    {
        string? why = null;
        NotifyMessage message = default;
        if (truncated)
        {
            why = $"longer than {MaxDatagram} bytes";
        }
        else if (pid <= 0)
        {
            why = "the kernel did not tell its sender";
        }
        else if (!NotifyMessage.TryParse(datagram, out message))
        {
            why = "it contains a NUL byte";
        }
        if (why is not null)
        {
            if (_malformedLog.TryTake(out var heldBack))
            {
                LogMalformed(Inbox.Group, pid, why, heldBack);
            }
            return null;
        }
        return message.IsEmpty ? null : message;
    }

    public void Dispose()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }
        _stop.Cancel();
        if (Path.Length > 0)
        {
            Remove(Path); // before the close: the path must never name another socket by the time it goes
        }
        _source.Dispose();
    }

    /// <summary>Removes the socket file clusterd made, and nothing else that might be there by now.</summary>
    private static void Remove(string path)
    {
        if (FileStatus.Of(path).Kind == FileKind.Socket)
        {
            File.Delete(path);
        }
    }

    /// <summary>The socket itself. It owns the fd: disposing it closes it.</summary>
    [SupportedOSPlatform("linux")]
    private sealed class KernelSource(Socket socket) : IDatagramSource
    {
        public Socket Socket => socket;

        private readonly byte[] _peek = new byte[1];

        // Waits for a datagram without taking it; TryReceive then takes it with its credentials.
        public async ValueTask WaitAsync(CancellationToken cancellationToken) =>
            await socket.ReceiveAsync(_peek, SocketFlags.Peek, cancellationToken);

        public bool TryReceive(Span<byte> buffer, out int length, out int senderPid, out bool truncated) =>
            CredentialDatagrams.TryReceive(socket, buffer, out length, out senderPid, out truncated);

        public void Dispose() => socket.Dispose();
    }

    [LoggerMessage(EventId = 402, Level = LogLevel.Error,
        Message = "{Group}: reading the notify socket failed: {Reason}; reading again in a second")]
    private partial void LogReceiveFailed(string group, string reason);

    [LoggerMessage(EventId = 403, Level = LogLevel.Error,
        Message = "{Group}: reading the notify socket failed unexpectedly; this probably indicates a bug in clusterd; reading again in a second")]
    private partial void LogReceiveBug(string group, Exception exception);

    [LoggerMessage(EventId = 404, Level = LogLevel.Warning,
        Message = "{Group}: ignored a notify datagram from pid {Pid}: {Why} ({HeldBack} more such lines held back)")]
    private partial void LogMalformed(string group, int pid, string why, long heldBack);

    [LoggerMessage(EventId = 405, Level = LogLevel.Warning,
        Message = "{Group}: workers run as uid {Uid}, but {Directory} (mode {Mode}) does not let other users through: they cannot reach NOTIFY_SOCKET; let other users traverse it (chmod o+x, e.g. mode 0751)")]
    private partial void LogUnreachable(string group, uint uid, string directory, string mode);

    [LoggerMessage(EventId = 406, Level = LogLevel.Error,
        Message = "{Group}: could not give the notify socket {Path} to the workers' new user: {Reason}; they cannot notify until it is fixed")]
    private partial void LogChownFailed(string group, string path, string reason);
}
