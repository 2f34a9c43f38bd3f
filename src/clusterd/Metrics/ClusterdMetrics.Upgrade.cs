using Clusterd.Supervision.Upgrade;

namespace Clusterd.Metrics;

/// <summary>
/// The counters across an in-place upgrade (docs/adr/0008): a counter that went back to 0 would read as a reset to
/// Prometheus, and <c>increase()</c> over the upgrade would lose what was counted before it. The startup and health
/// histograms start afresh (their buckets are the exporter's); they are distributions, not totals anyone alerts on.
/// </summary>
internal sealed partial class ClusterdMetrics
{
    public MetricsCounters Export()
    {
        lock (_lock)
        {
            return new MetricsCounters(
                [.. _events.Select(p => new CounterValue(p.Key.Group, p.Key.Event, p.Value))],
                [.. _exits.Select(p => new CounterValue(p.Key.Group, p.Key.Reason, p.Value))],
                [.. _restarts.Select(p => new CounterValue(p.Key, "", p.Value))],
                [.. _healthChecks.Select(p => new CounterValue(p.Key.Group, p.Key.Result, p.Value))],
                [.. _logDrops.All.Select(d => new CounterValue(d.Group, d.Reason, d.Count))],
                _reloadSuccesses,
                _reloadFailures);
        }
    }

    /// <summary>Goes on from the previous image's counts; call before anything is counted here.</summary>
    public void Import(MetricsCounters counters)
    {
        lock (_lock)
        {
            foreach (var c in counters.Events)
            {
                _events[(c.Group, c.Key)] = c.Value;
            }
            foreach (var c in counters.Exits)
            {
                _exits[(c.Group, c.Key)] = c.Value;
            }
            foreach (var c in counters.Restarts)
            {
                _restarts[c.Group] = c.Value;
            }
            foreach (var c in counters.HealthChecks)
            {
                _healthChecks[(c.Group, c.Key)] = c.Value;
            }
            foreach (var c in counters.LogDrops)
            {
                _logDrops.Add(c.Group, c.Key, c.Value);
            }
            _reloadSuccesses = counters.ReloadSuccesses;
            _reloadFailures = counters.ReloadFailures;
        }
    }
}
