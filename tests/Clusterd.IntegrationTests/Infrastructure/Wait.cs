namespace Clusterd.IntegrationTests.Infrastructure;

internal static class Wait
{
    /// <summary>
    /// For conditions no event announces (a pid disappearing after its parent was SIGKILLed): re-check on a short
    /// period until true or the deadline passes. The deadline is a failure bound, not a timing assertion.
    /// </summary>
    public static Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        UntilAsync(() => Task.FromResult(condition()), what, timeout);

    /// <summary>The same, for a condition that has to ask (a status request).</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }
            await timer.WaitForNextTickAsync();
        }
    }
}
