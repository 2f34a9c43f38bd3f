using System.Buffers;
using System.Globalization;
using System.IO.Pipes;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Clusterd.Config;
using Clusterd.Logging;
using Microsoft.Extensions.Logging;

namespace Clusterd.Supervision;

/// <summary>
/// Worker stdout/stderr, line by line, to where the group's [logs] settings send it (docs/logging.md): journald, a
/// file, or clusterd's console, and always into the in-memory log book <c>clusterctl logs</c> reads. Readers never wait:
/// a line over the worker's rate_limit is dropped at once, and the rest go into one bounded queue where what does not
/// fit is dropped and counted. So a worker that floods its output keeps running (its pipe is always drained), and
/// clusterd's memory stays bounded whatever the workers write.
/// </summary>
internal sealed partial class OutputCapture : IAsyncDisposable
{
    /// <summary>Longer lines are split; a worker cannot make clusterd buffer an unbounded line.</summary>
    public const int MaxLineBytes = 4096;

    public const int DefaultCapacity = 8192;

    /// <summary>
    /// What one read takes once output is there: a pipe's worth (64 KiB) in one pass of the read loop, where 4 KiB a
    /// pass left a worker writing 1000-byte lines waiting on its full pipe (bench/logs.sh). Rented only for that pass.
    /// </summary>
    private const int ReadBytes = 64 * 1024;

    private readonly Channel<OutputLine?> _lines; // null: close the files no worker writes to any more
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly LogDrops _drops;
    private readonly JournalSink? _journal;
    private readonly bool _underJournald;
    private readonly Func<string, LogsConfig, FileLogSink> _newFile;
    private readonly Dictionary<string, FileLogSink> _files = new(StringComparer.Ordinal); // writer task only, but for Reopen
    private readonly Dictionary<Worker, int> _readers = []; // open pipes per worker: whose settings name the files in use
    private readonly Lock _filesLock = new();
    private readonly ConditionalWeakTable<Worker, WorkerRateLimiter> _limiters = [];
    private readonly JournalEntry _entry = new();
    private readonly Task _writer;
    private long _dropped;
    private readonly Readiness.LogBudget _dropReports; // writer task only
    private int _closeUnused;
    private Task _closing = Task.CompletedTask; // writer task only
    private bool _journalMissingReported;

    private readonly WorkerLogBook _book;

    /// <param name="journal">journald's native socket, or null where there is none.</param>
    /// <param name="underJournald">clusterd's own stdout goes to journald (JOURNAL_STREAM): <c>target</c>'s default is the journal.</param>
    /// <param name="newFile">Opens a file sink; the real <see cref="FileLogSink"/> unless a test gives another.</param>
    public OutputCapture(ILogger logger, WorkerLogBook book, TimeProvider time, LogDrops drops, JournalSink? journal = null,
        bool underJournald = false, Func<string, LogsConfig, FileLogSink>? newFile = null, int capacity = DefaultCapacity)
    {
        _logger = logger;
        _book = book;
        _time = time;
        _drops = drops;
        _dropReports = new Readiness.LogBudget(time, 1, TimeSpan.FromSeconds(1));
        _journal = journal;
        _underJournald = underJournald && journal is not null;
        _newFile = newFile ?? ((path, settings) => new FileLogSink(path, settings, drops, logger, time));
        _lines = Channel.CreateBounded<OutputLine?>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true },
            line =>
            {
                if (line is null)
                {
                    return; // the writer is busy: it closes the unused files once it has caught up
                }
                Interlocked.Increment(ref line.Worker.DroppedOutputLines);
                Interlocked.Increment(ref line.Worker.Group.DroppedOutputLines);
                Interlocked.Increment(ref _dropped);
                _drops.Add(line.Group, LogDrops.QueueFull);
            });
        _writer = WriteAsync();
    }

    public void Capture(Worker worker, int pid, PipeStream stream, string name)
    {
        Platform.Descriptors.SetNonBlocking(stream.SafePipeHandle); // what is there is read without waiting
        _pipes[(worker, name)] = stream; // an upgrade hands the pipe on by fd (OutputCapture.Upgrade.cs)
        _ = ReadAsync(worker, new Source(worker.Group.Name, worker.Slot, pid, worker.Generation, name), stream);
    }

    /// <summary>Closes every log file and opens it again before its next line (SIGUSR1, <c>clusterctl logs --reopen</c>).</summary>
    public int ReopenFiles()
    {
        lock (_filesLock)
        {
            foreach (var file in _files.Values)
            {
                file.Reopen();
            }
            return _files.Count;
        }
    }

    /// <summary>
    /// Closes (after writing what they hold) the log files no worker's settings name any more: a group removed by a
    /// reload once its last worker is gone, or the old path of a group whose <c>file</c> or <c>target</c> changed.
    /// Asked after a reload and when a worker's pipes close; done by the writer after the lines queued before.
    /// </summary>
    public void CloseUnusedFiles()
    {
        Volatile.Write(ref _closeUnused, 1);
        _lines.Writer.TryWrite(null);
    }

    private async Task ReadAsync(Worker worker, Source source, PipeStream stream)
    {
        var decoder = new LineSplitter(MaxLineBytes);
        var first = new byte[1];
        var limiter = _limiters.GetValue(worker, w => new WorkerRateLimiter(_time, (suppressed, limit) =>
            _lines.Writer.TryWrite(Suppressed(w, new Source(w.Group.Name, w.Slot, w.Pid, w.Generation, "stderr"), suppressed, limit))));
        lock (_filesLock)
        {
            _readers[worker] = _readers.GetValueOrDefault(worker) + 1;
        }
        await using (stream)
        {
            try
            {
                while (true)
                {
                    // Wait for output holding one byte, then borrow a buffer only to take what is there: most workers
                    // are quiet most of the time, and a buffer per pipe held across the wait made 1000 workers cost
                    // 128 MiB (a zero-byte read does not wait on a pipe: it returns at once).
                    if (await stream.ReadAsync(first) == 0)
                    {
                        break;
                    }
                    var buffer = ArrayPool<byte>.Shared.Rent(ReadBytes);
                    try
                    {
                        buffer[0] = first[0];
                        var n = 1 + Platform.Descriptors.ReadAvailable(stream.SafePipeHandle, buffer.AsSpan(1, ReadBytes - 1));
                        foreach (var line in decoder.Push(buffer.AsSpan(0, n)))
                        {
                            Enqueue(worker, source, limiter, line);
                        }
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                }
            }
            catch (IOException)
            {
                // The pipe broke with the process; whatever was complete has been taken.
            }
            if (decoder.Flush() is string rest)
            {
                Enqueue(worker, source, limiter, rest);
            }
            _pipes.TryRemove(new KeyValuePair<(Worker, string), PipeStream>((worker, source.Stream), stream));
        }
        bool lastPipe;
        lock (_filesLock)
        {
            lastPipe = --_readers[worker] == 0;
            if (lastPipe)
            {
                _readers.Remove(worker);
            }
        }
        if (lastPipe)
        {
            CloseUnusedFiles();
        }
    }

    private void Enqueue(Worker worker, Source source, WorkerRateLimiter limiter, string text)
    {
        // The group's settings as of now: a reload replaces the group's config, and the next line follows it.
        if (worker.Group.Config.Logs.RateLimit is { } limit)
        {
            if (!limiter.TryTake(limit, out var suppressed))
            {
                _drops.Add(source.Group, LogDrops.RateLimit);
                return;
            }
            if (suppressed > 0)
            {
                _lines.Writer.TryWrite(Suppressed(worker, source, suppressed, limit));
            }
        }
        _lines.Writer.TryWrite(new OutputLine(worker, source, text));
    }

    private static OutputLine Suppressed(Worker worker, Source source, long count, LogRateLimit limit) =>
        new(worker, source, string.Create(CultureInfo.InvariantCulture,
            $"<4>clusterd: suppressed {count} lines of {source.Group}/{source.Slot} over its rate_limit ({limit.Describe()})"));

    private async Task WriteAsync()
    {
        await foreach (var line in _lines.Reader.ReadAllAsync())
        {
            // After the lines queued before the request: at its marker, or (the marker was dropped) once caught up.
            if (Volatile.Read(ref _closeUnused) == 1 && (line is null || _lines.Reader.Count == 0) && Interlocked.Exchange(ref _closeUnused, 0) == 1)
            {
                CloseFilesNotInUse();
            }
            if (line is null)
            {
                continue;
            }
            var source = line.Source;
            var (priority, text) = SyslogPrefix.ParsePriority(line.Text, source.Stream == "stderr" ? 3 : 6);
            var stored = _book.Append(source.Group, source.Slot, source.Pid, source.Stream, text);
            var settings = line.Worker.Group.Config.Logs;
            switch (Target(settings))
            {
                case LogTarget.Journal:
                    SendToJournal(source, priority, text);
                    break;
                case LogTarget.File:
                    WriteToFile(settings, source, stored.Time, text);
                    break;
                default:
                    var level = SyslogPrefix.Level(priority);
                    LogOutput(level, source.Group, source.Slot, source.Pid, source.Stream, text);
                    break;
            }
            if (Interlocked.Read(ref _dropped) > 0 && _dropReports.TryTake(out _))
            {
                LogDropped(Interlocked.Exchange(ref _dropped, 0)); // what a flood drops, once a second at most
            }
        }
    }

    private LogTarget Target(LogsConfig settings)
    {
        switch (settings.Target)
        {
            case LogTarget.Auto:
                return _underJournald ? LogTarget.Journal : LogTarget.Console;
            case LogTarget.Journal when _journal is null:
                if (!_journalMissingReported)
                {
                    _journalMissingReported = true;
                    LogJournalMissing(JournalSink.DefaultSocketPath);
                }
                return LogTarget.Console;
            default:
                return settings.Target;
        }
    }

    private void SendToJournal(Source source, int priority, string text)
    {
        _entry.Clear();
        _entry.Add("MESSAGE", text)
            .Add("PRIORITY", priority.ToString(CultureInfo.InvariantCulture))
            .Add("SYSLOG_IDENTIFIER", source.Group)
            .Add("SYSLOG_PID", source.Pid.ToString(CultureInfo.InvariantCulture))
            .Add("CLUSTERD_GROUP", source.Group)
            .Add("CLUSTERD_SLOT", source.Slot.ToString(CultureInfo.InvariantCulture))
            .Add("CLUSTERD_WORKER_PID", source.Pid.ToString(CultureInfo.InvariantCulture))
            .Add("CLUSTERD_GENERATION", source.Generation.ToString(CultureInfo.InvariantCulture))
            .Add("CLUSTERD_STREAM", source.Stream);
        if (_journal!.Send(_entry.Bytes) is { } reason)
        {
            _drops.Add(source.Group, reason);
        }
    }

    private void WriteToFile(LogsConfig settings, Source source, DateTimeOffset time, string text)
    {
        var path = FilePath(settings, source.Group, source.Slot);
        FileLogSink? file;
        lock (_filesLock)
        {
            if (!_files.TryGetValue(path, out file))
            {
                _files[path] = file = _newFile(path, settings);
            }
        }
        file.Write(source.Group, FormatFileLine(time, source, text), settings);
    }

    private void CloseFilesNotInUse()
    {
        List<FileLogSink> unused;
        lock (_filesLock)
        {
            var inUse = _readers.Keys.Select(w => (w, w.Group.Config.Logs)).Where(r => r.Logs.Target == LogTarget.File)
                .Select(r => FilePath(r.Logs, r.w.Group.Name, r.w.Slot)).ToHashSet(StringComparer.Ordinal);
            unused = _files.Values.Where(f => !inUse.Contains(f.Path)).ToList();
            foreach (var file in unused)
            {
                _files.Remove(file.Path);
            }
        }
        // In the background, one after the other: writing what a file holds must not hold up the other groups' lines.
        foreach (var file in unused)
        {
            _closing = CloseAfterAsync(_closing, file);
        }

        static async Task CloseAfterAsync(Task previous, FileLogSink file)
        {
            await previous;
            await file.DisposeAsync();
        }
    }

    private static string FilePath(LogsConfig settings, string group, int slot) =>
        LogPaths.Expand(settings.File ?? LogPaths.DefaultTemplate, group, slot);

    /// <summary><c>2026-11-30T17:00:00.123Z web/0[2705] stdout: text</c>: RFC 3339 UTC, the slot, the pid, the stream.</summary>
    public static string FormatFileLine(DateTimeOffset time, string group, int slot, int pid, string stream, string text) =>
        string.Create(CultureInfo.InvariantCulture, $"{time.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'} {group}/{slot}[{pid}] {stream}: {text}");

    private static string FormatFileLine(DateTimeOffset time, Source source, string text) =>
        FormatFileLine(time, source.Group, source.Slot, source.Pid, source.Stream, text);

    public async ValueTask DisposeAsync()
    {
        _lines.Writer.TryComplete();
        await _writer;
        await _closing;
        foreach (var file in _files.Values)
        {
            await file.DisposeAsync();
        }
        _journal?.Dispose();
    }

    [LoggerMessage(EventId = 200, Message = "{Group}/{Slot} pid {Pid} {Stream}: {Line}")]
    private partial void LogOutput(LogLevel level, string group, int slot, int pid, string stream, string line);

    [LoggerMessage(EventId = 201, Level = LogLevel.Warning,
        Message = "dropped {Count} lines of worker output: workers wrote faster than the log could take them")]
    private partial void LogDropped(long count);

    [LoggerMessage(EventId = 202, Level = LogLevel.Warning,
        Message = "target = \"journal\" but there is no journald socket at {Path}: worker lines go to the console instead")]
    private partial void LogJournalMissing(string path);

    /// <summary>Who wrote a line, fixed when the process's pipes are taken.</summary>
    private sealed record Source(string Group, int Slot, int Pid, int Generation, string Stream);

    private sealed record OutputLine(Worker Worker, Source Source, string Text)
    {
        public string Group => Source.Group;
    }
}
