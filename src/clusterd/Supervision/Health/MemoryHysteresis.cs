namespace Clusterd.Supervision.Health;

/// <summary>
/// max_memory's trigger: only <see cref="Samples"/> samples in a row above the limit count, so a short spike (a
/// request that allocates, a GC about to run) does not replace a worker. It trips once per run of samples; if the
/// replacement could not be made, another run trips it again.
/// </summary>
internal sealed class MemoryHysteresis
{
    public const int Samples = 3;

    private int _above;

    /// <summary>Takes one sample; true when it completes a run of <see cref="Samples"/> above <paramref name="limit"/>.</summary>
    public bool Observe(long bytes, long limit)
    {
        if (bytes <= limit)
        {
            _above = 0;
            return false;
        }
        if (++_above < Samples)
        {
            return false;
        }
        _above = 0;
        return true;
    }
}
