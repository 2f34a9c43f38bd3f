using System.Collections.Concurrent;

namespace Clusterd.IntegrationTests.Infrastructure;

/// <summary>
/// Real load for rollout tests: several loops, each a new connection per request (every request is a new accept,
/// the case a restart can break), until stopped. Counts every failure with its reason.
/// </summary>
internal sealed class Load : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _loops;

    public Load(int port, int concurrency = 4, string path = "/")
    {
        _loops = Enumerable.Range(0, concurrency).Select(_ => Task.Run(() => LoopAsync(port, path))).ToArray();
    }

    public long Succeeded => Interlocked.Read(ref _succeeded);

    public ConcurrentQueue<string> Failures { get; } = new();

    public ConcurrentDictionary<string, long> ByGeneration { get; } = new();

    private long _succeeded;

    private async Task LoopAsync(int port, string path)
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var json = await Http.GetJsonAsync(port, path);
                Interlocked.Increment(ref _succeeded);
                ByGeneration.AddOrUpdate(json.GetProperty("generation").GetString() ?? "?", 1, (_, n) => n + 1);
            }
            catch (Exception e) when (!_stop.IsCancellationRequested)
            {
                Failures.Enqueue($"{e.GetType().Name}: {e.Message}");
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
            }
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> more requests have succeeded: proof the load is flowing.</summary>
    public Task WaitForSuccessesAsync(long count) => Wait.UntilAsync(() => Succeeded >= count, $"{count} successful requests");

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
        _stop.Dispose();
    }
}
