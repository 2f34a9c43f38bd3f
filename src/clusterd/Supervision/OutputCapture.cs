using System.Buffers;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Clusterd.Supervision;

/// <summary>
/// Worker stdout/stderr, line by line, into clusterd's log. Readers never wait for the logger: lines go into one
/// bounded queue and what does not fit is dropped and counted. So a worker that floods its output keeps running
/// (its pipe is always drained), and clusterd's memory stays bounded whatever the workers write.
/// </summary>
internal sealed partial class OutputCapture : IAsyncDisposable
{
    /// <summary>Longer lines are split; a worker cannot make clusterd buffer an unbounded line.</summary>
    public const int MaxLineBytes = 4096;

    private readonly Channel<OutputLine> _lines;
    private readonly ILogger _logger;
    private readonly Task _writer;
    private long _dropped;

    private readonly WorkerLogBook _book;

    public OutputCapture(ILogger logger, WorkerLogBook book, int capacity = 8192)
    {
        _logger = logger;
        _book = book;
        _lines = Channel.CreateBounded<OutputLine>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true },
            line =>
            {
                Interlocked.Increment(ref line.Worker.DroppedOutputLines);
                Interlocked.Increment(ref _dropped);
            });
        _writer = WriteAsync();
    }

    public void Capture(Worker worker, int pid, Stream stream, string name) => _ = ReadAsync(worker, pid, stream, name);

    private async Task ReadAsync(Worker worker, int pid, Stream stream, string name)
    {
        var group = worker.Group.Name;
        var decoder = new LineSplitter(MaxLineBytes);
        await using (stream)
        {
            try
            {
                while (true)
                {
                    // Wait for output holding no buffer (a zero-byte read), then borrow one only to take what came:
                    // most workers are quiet most of the time, and 1000 of them used to pin 1000 x 2 x 4 KiB.
#pragma warning disable CA2022 // not an inexact read: a zero-byte read reads nothing, it only waits for data
                    await stream.ReadAsync(Memory<byte>.Empty);
#pragma warning restore CA2022
                    var buffer = ArrayPool<byte>.Shared.Rent(MaxLineBytes);
                    try
                    {
                        var n = await stream.ReadAsync(buffer.AsMemory(0, MaxLineBytes));
                        if (n == 0)
                        {
                            break;
                        }
                        foreach (var line in decoder.Push(buffer.AsSpan(0, n)))
                        {
                            _lines.Writer.TryWrite(new OutputLine(worker, group, worker.Slot, pid, name, line));
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
                _lines.Writer.TryWrite(new OutputLine(worker, group, worker.Slot, pid, name, rest));
            }
        }
    }

    private async Task WriteAsync()
    {
        await foreach (var line in _lines.Reader.ReadAllAsync())
        {
            var (level, text) = SyslogPrefix.Parse(line.Text, LogLevel.Information);
            _book.Append(line.Group, line.Slot, line.Pid, line.Stream, text);
            LogOutput(level, line.Group, line.Slot, line.Pid, line.Stream, text);
            var dropped = Interlocked.Exchange(ref _dropped, 0);
            if (dropped > 0)
            {
                LogDropped(dropped);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _lines.Writer.TryComplete();
        await _writer;
    }

    [LoggerMessage(EventId = 200, Message = "{Group}/{Slot} pid {Pid} {Stream}: {Line}")]
    private partial void LogOutput(LogLevel level, string group, int slot, int pid, string stream, string line);

    [LoggerMessage(EventId = 201, Level = LogLevel.Warning,
        Message = "dropped {Count} lines of worker output: workers wrote faster than the log could take them")]
    private partial void LogDropped(long count);

    private sealed record OutputLine(Worker Worker, string Group, int Slot, int Pid, string Stream, string Text);
}
