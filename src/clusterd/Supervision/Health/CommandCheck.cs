using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Clusterd.Platform;

namespace Clusterd.Supervision.Health;

/// <summary>
/// One run of a <c>command</c> health check (docs/config.md, "Worker health"), once the launcher has started it: its
/// output is read to the end keeping only the tail, it gets <c>timeout</c> to exit, and then (or as soon as the worker
/// is gone) everything it started is SIGKILLed. Passes when it exits 0 in time. Runs off the supervisor loop.
/// </summary>
internal static class CommandCheck
{
    /// <summary>How much of the check's output (stdout and stderr together) the failure message keeps: its end.</summary>
    public const int OutputTailBytes = 4096;

    /// <summary>
    /// Waits for the started check and judges it. <paramref name="cancellationToken"/> is the worker's end: the check is
    /// killed and this throws <see cref="OperationCanceledException"/>.
    /// </summary>
    /// <returns>Null when the check passed, else why not.</returns>
    public static async Task<string?> WaitAsync(
        Socket status, ITrackedProcess process, Socket output, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using (status)
        using (output)
        {
            var tail = ReadTailAsync(output);
            var exited = process.MainExited;
            var timedOut = false;
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                deadline.CancelAfter(timeout);
                try
                {
                    await exited.WaitAsync(deadline.Token);
                }
                catch (OperationCanceledException)
                {
                    timedOut = !cancellationToken.IsCancellationRequested; // else the worker is gone, and with it the check's point
                }
            }
            // Whatever it leaves behind goes too: a check is over when its main process is, and its output ends only then.
            process.Signal(Signals.SIGKILL);
            var exec = await ExecHelper.ReadOutcomeAsync(status, CancellationToken.None);
            var waitStatus = await exited;
            await process.TreeGone;
            cancellationToken.ThrowIfCancellationRequested();
            return Judge(exec, waitStatus, timedOut, timeout, await tail);
        }
    }

    /// <summary>Reads <paramref name="output"/> to its end (the check and all it started closed it), keeping the tail.</summary>
    private static async Task<string> ReadTailAsync(Socket output)
    {
        var tail = new OutputTail(OutputTailBytes);
        var buffer = new byte[OutputTailBytes];
        try
        {
            int n;
            while ((n = await output.ReceiveAsync(buffer, SocketFlags.None)) > 0)
            {
                tail.Append(buffer.AsSpan(0, n));
            }
        }
        catch (SocketException)
        {
            // ECONNRESET: the end all the same
        }
        return tail.ToString();
    }

    /// <summary>
    /// Null for a pass (exit 0 in time), else the reason: the helper could not start it, it timed out (and was killed),
    /// it exited non-zero, or a signal ended it; with the end of what it wrote, if anything. Internal for tests.
    /// </summary>
    internal static string? Judge(ExecFailure? exec, int waitStatus, bool timedOut, TimeSpan timeout, string output)
    {
        string why;
        if (exec is not null)
        {
            why = $"cannot run the check: {exec.Message}";
        }
        else if (timedOut)
        {
            why = string.Create(CultureInfo.InvariantCulture, $"no exit within {timeout.TotalSeconds:0.###}s; killed");
        }
        else
        {
            var (code, signal) = WaitStatus.Decode(waitStatus);
            if (code == 0)
            {
                return null;
            }
            why = code is int c
                ? string.Create(CultureInfo.InvariantCulture, $"exit code {c}")
                : string.Create(CultureInfo.InvariantCulture, $"killed by signal {signal}");
        }
        return output.Length == 0 ? why : $"{why}; output: {output}";
    }
}

/// <summary>
/// The last <c>capacity</c> bytes of a stream of any length, as one line of text: a check's output in its failure
/// message, bounded however much it writes. Internal for tests.
/// </summary>
internal sealed class OutputTail(int capacity)
{
    private readonly byte[] _buffer = new byte[capacity * 2];
    private int _length;
    private bool _cut;

    public void Append(ReadOnlySpan<byte> data)
    {
        if (data.Length >= capacity)
        {
            data[^capacity..].CopyTo(_buffer);
            _cut |= _length > 0 || data.Length > capacity;
            _length = capacity;
            return;
        }
        if (_length + data.Length > _buffer.Length)
        {
            var keep = capacity - data.Length; // at least the room the new data leaves of the capacity
            _buffer.AsSpan(_length - keep, keep).CopyTo(_buffer);
            _length = keep;
            _cut = true;
        }
        data.CopyTo(_buffer.AsSpan(_length));
        _length += data.Length;
    }

    /// <summary>
    /// The tail, its lines trimmed and joined with " | ", starting with "..." if anything before it was dropped (and
    /// not within a UTF-8 sequence cut in two); invalid UTF-8 reads as U+FFFD.
    /// </summary>
    public override string ToString()
    {
        var kept = _buffer.AsSpan(0, _length);
        var cut = _cut;
        if (kept.Length > capacity)
        {
            kept = kept[^capacity..];
            cut = true;
        }
        if (cut)
        {
            var start = 0;
            while (start < kept.Length && (kept[start] & 0xC0) == 0x80)
            {
                start++; // a continuation byte: the start of its character was dropped
            }
            kept = kept[start..];
        }
        var lines = Encoding.UTF8.GetString(kept).Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var text = string.Join(" | ", lines);
        return cut && text.Length > 0 ? $"...{text}" : text;
    }
}
