using System.Net.Sockets;
using System.Threading.Channels;
using Clusterd.Control;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Clusterd.Tests.Control;

public sealed class AcceptLoopTests
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);
    private static readonly SocketException s_emfile = new((int)SocketError.TooManyOpenSockets);

    /// <summary>A FakeTimeProvider that says when a timer is made: then the loop waits, and the test may move time on.</summary>
    private sealed class WatchedTime(FakeTimeProvider fake) : TimeProvider
    {
        public SemaphoreSlim TimerCreated { get; } = new(0);

        public override DateTimeOffset GetUtcNow() => fake.GetUtcNow();

        public override long GetTimestamp() => fake.GetTimestamp();

        public override long TimestampFrequency => fake.TimestampFrequency;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = fake.CreateTimer(callback, state, dueTime, period);
            TimerCreated.Release();
            return timer;
        }
    }

    private sealed class RecordingLogger : ILogger
    {
        public List<(int EventId, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Entries)
            {
                Entries.Add((eventId.Id, formatter(state, exception)));
            }
        }
    }

    /// <summary>An accept that fails as scripted, records when it was called, and then waits for the test to end.</summary>
    private sealed class ScriptedAccept(TimeProvider time, params Exception?[] script)
    {
        private readonly Queue<Exception?> _script = new(script);

        public Channel<DateTimeOffset> Calls { get; } = Channel.CreateUnbounded<DateTimeOffset>();

        public async ValueTask AcceptAsync(CancellationToken cancellationToken)
        {
            Calls.Writer.TryWrite(time.GetUtcNow());
            if (!_script.TryDequeue(out var outcome))
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            if (outcome is not null)
            {
                throw outcome;
            }
        }

        public async Task<DateTimeOffset> NextCallAsync()
        {
            using var cts = new CancellationTokenSource(s_deadline);
            return await Calls.Reader.ReadAsync(cts.Token);
        }
    }

    [Fact]
    public async Task RunAsync_AcceptKeepsFailing_WaitsDoublingDelaysUpToASecondBeforeEachRetry()
    {
        var fake = new FakeTimeProvider();
        var time = new WatchedTime(fake);
        var t0 = fake.GetUtcNow();
        var accept = new ScriptedAccept(time, Enumerable.Repeat<Exception?>(s_emfile, 10).ToArray());
        using var stop = new CancellationTokenSource();
        var loop = AcceptLoop.RunAsync(accept.AcceptAsync, time, new RecordingLogger(), stop.Token);

        Assert.Equal(t0, await accept.NextCallAsync());
        var expected = new[] { 10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000 };
        var elapsed = TimeSpan.Zero;
        foreach (var ms in expected)
        {
            Assert.True(await time.TimerCreated.WaitAsync(s_deadline), "the loop did not start waiting");
            fake.Advance(TimeSpan.FromMilliseconds(ms) - TimeSpan.FromTicks(1));
            Assert.False(accept.Calls.Reader.TryRead(out _), $"accept was retried before its {ms} ms delay ended");
            fake.Advance(TimeSpan.FromTicks(1));
            elapsed += TimeSpan.FromMilliseconds(ms);
            Assert.Equal(t0 + elapsed, await accept.NextCallAsync());
        }

        await stop.CancelAsync();
        await loop.WaitAsync(s_deadline);
    }

    [Fact]
    public async Task RunAsync_AcceptWorksAgain_LogsOnceForTheEpisodeAndStartsTheNextWithTheShortestDelay()
    {
        var fake = new FakeTimeProvider();
        var time = new WatchedTime(fake);
        var log = new RecordingLogger();
        var accept = new ScriptedAccept(time, s_emfile, s_emfile, null, s_emfile);
        using var stop = new CancellationTokenSource();
        var loop = AcceptLoop.RunAsync(accept.AcceptAsync, time, log, stop.Token);

        await accept.NextCallAsync();
        await time.TimerCreated.WaitAsync(s_deadline);
        fake.Advance(TimeSpan.FromMilliseconds(10));
        await accept.NextCallAsync();
        await time.TimerCreated.WaitAsync(s_deadline);
        fake.Advance(TimeSpan.FromMilliseconds(20));
        await accept.NextCallAsync(); // works
        var afterSuccess = await accept.NextCallAsync(); // fails again: a new episode
        Assert.True(await time.TimerCreated.WaitAsync(s_deadline));
        fake.Advance(TimeSpan.FromMilliseconds(10));
        Assert.Equal(afterSuccess + TimeSpan.FromMilliseconds(10), await accept.NextCallAsync());

        await stop.CancelAsync();
        await loop.WaitAsync(s_deadline);
        Assert.Equal([300, 301, 300], log.Entries.Select(e => e.EventId));
        Assert.Contains("after 2 failed attempts", log.Entries[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_Stopped_EndsWithoutError()
    {
        var time = new WatchedTime(new FakeTimeProvider());
        var accept = new ScriptedAccept(time);
        using var stop = new CancellationTokenSource();
        var loop = AcceptLoop.RunAsync(accept.AcceptAsync, time, new RecordingLogger(), stop.Token);
        await accept.NextCallAsync();

        await stop.CancelAsync();

        await loop.WaitAsync(s_deadline);
        Assert.True(loop.IsCompletedSuccessfully);
    }
}
