using Microsoft.Extensions.Logging;

namespace Clusterd.Tests.Readiness;

/// <summary>Keeps every log entry with its structured state, so a test can assert what was said and can wait for it.</summary>
internal sealed class ListLogger : ILogger
{
    private readonly Lock _lock = new();
    private readonly List<Entry> _entries = [];
    private readonly List<(Func<Entry, bool> Match, TaskCompletionSource<Entry> Found)> _waiters = [];

    internal sealed record Entry(int EventId, LogLevel Level, string Message, IReadOnlyDictionary<string, object?> State)
    {
        public object? this[string key] => State.TryGetValue(key, out var v) ? v : null;
    }

    public IReadOnlyList<Entry> Entries
    {
        get
        {
            lock (_lock)
            {
                return _entries.ToArray();
            }
        }
    }

    public IReadOnlyList<Entry> WithId(int eventId) => Entries.Where(e => e.EventId == eventId).ToArray();

    /// <summary>Completes with the first entry that matches, now or later; the caller bounds the wait.</summary>
    public Task<Entry> WaitForAsync(int eventId)
    {
        lock (_lock)
        {
            if (_entries.FirstOrDefault(e => e.EventId == eventId) is { } found)
            {
                return Task.FromResult(found);
            }
            var tcs = new TaskCompletionSource<Entry>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((e => e.EventId == eventId, tcs));
            return tcs.Task;
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var fields = state is IEnumerable<KeyValuePair<string, object?>> pairs
            ? pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal)
            : new Dictionary<string, object?>(StringComparer.Ordinal);
        var entry = new Entry(eventId.Id, logLevel, formatter(state, exception), fields);
        lock (_lock)
        {
            _entries.Add(entry);
            foreach (var waiter in _waiters.Where(w => w.Match(entry)).ToArray())
            {
                _waiters.Remove(waiter);
                waiter.Found.TrySetResult(entry);
            }
        }
    }
}
