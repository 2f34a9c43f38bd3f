using System.Globalization;

namespace Clusterd.Config;

/// <summary>
/// What <c>workers = "auto"</c> resolves to: the CPUs this process may use, and where that number came from
/// (shown by <c>clusterctl status</c>). Detected by <see cref="Platform.CpuBudget"/>; tests pass a fixed one.
/// </summary>
internal sealed record AvailableCpus(int Count, string Source)
{
    /// <summary>A count given rather than detected (tests, the fuzzer): the same wherever it runs.</summary>
    public static AvailableCpus Assumed(int count) =>
        new(count, string.Create(CultureInfo.InvariantCulture, $"{count} CPUs (assumed)"));
}
