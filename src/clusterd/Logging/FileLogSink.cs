using System.IO.Compression;
using System.Text;
using System.Threading.Channels;
using Clusterd.Config;
using Clusterd.Platform;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Clusterd.Logging;

/// <summary>
/// One log file: lines come through a bounded queue (full: dropped and counted as <see cref="LogDrops.SlowDisk"/>) and
/// one task writes them in batches. At <c>max_size</c> it rotates (FILE → FILE.1, gzipped in the background to
/// FILE.1.gz, …, keeping <c>keep</c>). A failure to open or write is logged once, not per line, until writing works again.
/// </summary>
internal sealed partial class FileLogSink : IAsyncDisposable
{
    /// <summary>A slow disk holds at most this many lines (at 4 KiB a line, 8 MiB) before lines are dropped.</summary>
    public const int QueueCapacity = 2048;

    private const int BatchBytes = 64 * 1024;

    /// <summary>After a failed open, how long lines are dropped before the next try (a flood must not become an open() storm).</summary>
    private static readonly TimeSpan s_retryOpen = TimeSpan.FromSeconds(1);

    private readonly Channel<FileLine> _lines;
    private readonly LogDrops _drops;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Func<string, SafeFileHandle> _open;
    private readonly Task _writer;
    private LogsConfig _settings;
    private SafeFileHandle? _file;
    private long _size;
    private long _openFailedAt;
    private int _reopen;
    private string? _failure; // what was last reported, so it is reported once
    private Task _compressing = Task.CompletedTask;

    /// <param name="open">How the file is opened: <see cref="LogFiles.OpenAppend"/> unless a test gives another.</param>
    public FileLogSink(string path, LogsConfig settings, LogDrops drops, ILogger logger, TimeProvider time, Func<string, SafeFileHandle>? open = null)
    {
        Path = path;
        _settings = settings;
        _drops = drops;
        _logger = logger;
        _time = time;
        _open = open ?? LogFiles.OpenAppend;
        _lines = Channel.CreateBounded<FileLine>(
            new BoundedChannelOptions(QueueCapacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true },
            line => _drops.Add(line.Group, LogDrops.SlowDisk));
        _writer = Task.Run(WriteAsync);
    }

    public string Path { get; }

    /// <summary>Queues a line, never waiting; <paramref name="settings"/> are the group's current ones (a reload changes them).</summary>
    public void Write(string group, string line, LogsConfig settings)
    {
        Volatile.Write(ref _settings, settings);
        _lines.Writer.TryWrite(new FileLine(group, line));
    }

    /// <summary>Closes and reopens the file before the next batch: after an external logrotate moved it away.</summary>
    public void Reopen() => Interlocked.Exchange(ref _reopen, 1);

    /// <summary>Waits for everything queued so far to be written (tests, shutdown).</summary>
    public async ValueTask DisposeAsync()
    {
        _lines.Writer.TryComplete();
        await _writer;
        await _compressing;
        _file?.Dispose();
    }

    private async Task WriteAsync()
    {
        var batch = new MemoryStream(BatchBytes);
        var groups = new List<string>();
        while (await _lines.Reader.WaitToReadAsync())
        {
            batch.SetLength(0);
            groups.Clear();
            while (batch.Length < BatchBytes && _lines.Reader.TryRead(out var line))
            {
                WriteUtf8(batch, line.Text);
                groups.Add(line.Group);
            }
            if (Interlocked.Exchange(ref _reopen, 0) == 1)
            {
                Close();
                _openFailedAt = 0;
            }
            Write(batch, groups);
        }
    }

    private static void WriteUtf8(MemoryStream batch, string text)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        var start = (int)batch.Length;
        batch.SetLength(start + length + 1);
        var buffer = batch.GetBuffer();
        Encoding.UTF8.GetBytes(text, buffer.AsSpan(start));
        buffer[start + length] = (byte)'\n';
    }

    private void Write(MemoryStream batch, List<string> groups)
    {
        var file = _file ?? TryOpen();
        if (file is null)
        {
            Drop(groups, LogDrops.FileError);
            return;
        }
        var errno = LogFiles.Append(file, batch.GetBuffer().AsSpan(0, (int)batch.Length));
        if (errno != 0)
        {
            var reason = errno == Constants.ENoSpc ? LogDrops.DiskFull : LogDrops.FileError;
            Report(new ErrnoException($"write {Path}", errno).Message);
            Drop(groups, reason);
            return;
        }
        Recovered();
        _size += batch.Length;
        var settings = Volatile.Read(ref _settings);
        if (_size >= settings.MaxSize)
        {
            Rotate(settings);
        }
    }

    private SafeFileHandle? TryOpen()
    {
        var now = _time.GetTimestamp();
        if (_openFailedAt != 0 && _time.GetElapsedTime(_openFailedAt, now) < s_retryOpen)
        {
            return null;
        }
        try
        {
            if (System.IO.Path.GetDirectoryName(Path) is { Length: > 0 } directory && !Directory.Exists(directory))
            {
                // Only the last level, as the user's state directory (~/.local/state/clusterd) may not exist yet.
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
            }
            _file = _open(Path);
            _size = RandomAccess.GetLength(_file);
            _openFailedAt = 0;
            return _file;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _openFailedAt = now;
            Report(e.Message);
            return null;
        }
    }

    private void Close()
    {
        _file?.Dispose();
        _file = null;
    }

    private void Drop(List<string> groups, string reason)
    {
        foreach (var group in groups)
        {
            _drops.Add(group, reason);
        }
    }

    private void Report(string failure)
    {
        if (_failure != failure)
        {
            _failure = failure;
            LogWriteFailed(Path, failure);
        }
    }

    private void Recovered()
    {
        if (_failure is not null)
        {
            _failure = null;
            LogWriteRecovered(Path);
        }
    }

    /// <summary>FILE.N-1 → FILE.N down to FILE → FILE.1, then a new FILE; FILE.1 is gzipped while the new one fills.</summary>
    private void Rotate(LogsConfig settings)
    {
        Close();
        _compressing.Wait(); // the previous FILE.1 must be FILE.1.gz before it moves on
        try
        {
            if (settings.Keep == 0)
            {
                RemoveIfOurs(Path);
            }
            else
            {
                foreach (var suffix in (string[])["", ".gz"])
                {
                    RemoveIfOurs(Rotated(settings.Keep) + suffix);
                    for (var n = settings.Keep - 1; n >= 1; n--)
                    {
                        MoveIfOurs(Rotated(n) + suffix, Rotated(n + 1) + suffix);
                    }
                }
                MoveIfOurs(Path, Rotated(1));
                if (settings.Compress)
                {
                    _compressing = Task.Run(() => Compress(Rotated(1)));
                }
            }
        }
        catch (IOException e)
        {
            Report($"rotating {Path}: {e.Message}");
        }
        // Whatever happened, keep writing: into a new file if the old one moved, else on into the old one.
    }

    private string Rotated(int n) => $"{Path}.{n}";

    private static void RemoveIfOurs(string path)
    {
        if (LogFiles.IsOursOrMissing(path))
        {
            File.Delete(path); // a missing file is no error to File.Delete
        }
    }

    private static void MoveIfOurs(string from, string to)
    {
        if (File.Exists(from) && LogFiles.IsOursOrMissing(from) && LogFiles.IsOursOrMissing(to))
        {
            File.Move(from, to, overwrite: true); // rename(2): replaces a name, never writes through a link
        }
    }

    private void Compress(string path)
    {
        var gz = path + ".gz";
        try
        {
            RemoveIfOurs(gz);
            using (var source = new FileStream(path, FileMode.Open, FileAccess.Read))
            using (var target = new FileStream(LogFiles.Create(gz), FileAccess.Write))
            using (var zip = new GZipStream(target, CompressionLevel.Fastest))
            {
                source.CopyTo(zip);
            }
            File.Delete(path);
        }
        catch (IOException e)
        {
            LogCompressFailed(path, e.Message);
        }
    }

    [LoggerMessage(EventId = 210, Level = LogLevel.Error,
        Message = "log file {Path}: {Failure}; its lines are dropped (and counted) until it can be written again")]
    private partial void LogWriteFailed(string path, string failure);

    [LoggerMessage(EventId = 211, Level = LogLevel.Information, Message = "log file {Path} is written again")]
    private partial void LogWriteRecovered(string path);

    [LoggerMessage(EventId = 212, Level = LogLevel.Warning, Message = "could not compress the rotated log file {Path}: {Failure}; it stays uncompressed")]
    private partial void LogCompressFailed(string path, string failure);

    private readonly record struct FileLine(string Group, string Text);
}
