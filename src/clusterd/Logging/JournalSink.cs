using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Clusterd.Logging;

/// <summary>
/// Sends entries to journald's native socket, one datagram each, never waiting: a full socket buffer (journald is
/// behind) drops the entry as <see cref="LogDrops.JournalBusy"/>. Entries stay far below the datagram limit (a line is
/// at most 4 KiB), so the memfd form sd_journal_sendv uses for big entries is not needed. Under systemd journald
/// attributes each entry to clusterd's unit by the sender's cgroup (<c>_SYSTEMD_UNIT=clusterd.service</c>).
/// </summary>
internal sealed partial class JournalSink : IDisposable
{
    public const string DefaultSocketPath = "/run/systemd/journal/socket";

    /// <summary>What sd_journal asks for: room for bursts while journald catches up (the kernel caps it at wmem_max).</summary>
    private const int SendBuffer = 8 << 20;

    private static readonly TimeSpan s_retryConnect = TimeSpan.FromSeconds(1);

    private readonly string _path;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private Socket? _socket;
    private long _failedAt;
    private bool _failing;

    public JournalSink(string path, ILogger logger, TimeProvider time)
    {
        _path = path;
        _logger = logger;
        _time = time;
    }

    /// <summary>Whether journald's socket is there: <c>target = "journal"</c> falls back to the console without it.</summary>
    public static bool Exists(string path) => File.Exists(path); // true for a socket: anything but a directory

    /// <returns>Null when sent; else the drop reason.</returns>
    public string? Send(ReadOnlySpan<byte> entry)
    {
        lock (_lock)
        {
            var socket = _socket ?? Connect();
            if (socket is null)
            {
                return LogDrops.JournalError;
            }
            try
            {
                socket.Send(entry, SocketFlags.None);
                if (_failing)
                {
                    _failing = false;
                    LogJournalBack(_path);
                }
                return null;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
            {
                return LogDrops.JournalBusy;
            }
            catch (SocketException e)
            {
                // journald restarted (ECONNREFUSED) or went away: connect again, at most once a second.
                Fail(e.Message);
                return LogDrops.JournalError;
            }
        }
    }

    private Socket? Connect()
    {
        var now = _time.GetTimestamp();
        if (_failedAt != 0 && _time.GetElapsedTime(_failedAt, now) < s_retryConnect)
        {
            return null;
        }
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(_path));
            socket.Blocking = false;
            try
            {
                socket.SendBufferSize = SendBuffer;
            }
            catch (SocketException)
            {
                // The default buffer still works; bursts just drop sooner.
            }
            _failedAt = 0;
            return _socket = socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            Fail(e.Message);
            return null;
        }
    }

    private void Fail(string message)
    {
        _socket?.Dispose();
        _socket = null;
        _failedAt = _time.GetTimestamp();
        if (!_failing)
        {
            _failing = true;
            LogJournalFailed(_path, message);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _socket?.Dispose();
            _socket = null;
        }
    }

    [LoggerMessage(EventId = 220, Level = LogLevel.Error,
        Message = "cannot send worker lines to journald at {Path}: {Failure}; they are dropped (and counted) until it answers again")]
    private partial void LogJournalFailed(string path, string failure);

    [LoggerMessage(EventId = 221, Level = LogLevel.Information, Message = "journald at {Path} takes worker lines again")]
    private partial void LogJournalBack(string path);
}
