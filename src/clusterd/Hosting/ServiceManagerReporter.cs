using System.Diagnostics;
using System.Globalization;
using Clusterd.Platform;
using Clusterd.Supervision;
using Microsoft.Extensions.Hosting.Systemd;

namespace Clusterd.Hosting;

/// <summary>
/// Tells the service manager that started clusterd how it is doing, upward, the way workers tell clusterd:
/// READY=1 once the groups are ready, STATUS= with ready counts, RELOADING=1 (+MONOTONIC_USEC) and READY=1 around a
/// reload (Type=notify-reload), WATCHDOG=1 from the supervisor loop itself (a stuck loop stops the pings, and
/// systemd restarts clusterd), STOPPING=1 on the way out.
/// Under real systemd, Hosting.Systemd's SystemdLifetime sends READY=1 when the host has started, which clusterd
/// holds back until its groups are ready; elsewhere (any other sd_notify speaker) this class sends it itself.
/// </summary>
internal sealed class ServiceManagerReporter(ServiceManagerNotifier notifier, Supervisor supervisor, TimeProvider time) : IReloadListener, IDisposable
{
    private readonly bool _lifetimeSendsReady = SystemdHelpers.IsSystemdService();
    private string? _lastStatus;
    private ITimer? _watchdog;

    /// <summary>Starts STATUS= updates and, when WATCHDOG_USEC asks for it, the loop's watchdog pings.</summary>
    public void Start()
    {
        supervisor.Published += OnPublished;
        if (WatchdogInterval() is TimeSpan interval)
        {
            // Half the timeout, as sd_watchdog_enabled(3) recommends. The ping is sent by the loop, not the timer:
            // if the loop hangs, systemd hears nothing.
            _watchdog = time.CreateTimer(_ => supervisor.Post(new CallbackEvent(() => notifier.Notify("WATCHDOG=1"))),
                null, interval, interval);
        }
    }

    /// <summary>The groups are ready (or settled): the service is up.</summary>
    public void Started()
    {
        if (!_lifetimeSendsReady)
        {
            notifier.Notify("READY=1");
        }
    }

    public void Applying() =>
        notifier.Notify(FormattableString.Invariant($"RELOADING=1\nMONOTONIC_USEC={Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000)}\nSTATUS=reloading the configuration"));

    public void Reloaded(bool success)
    {
        _lastStatus = null; // the next snapshot rewrites STATUS=
        notifier.Notify("READY=1");
    }

    public void Stopping()
    {
        _watchdog?.Dispose();
        notifier.Notify("STOPPING=1\nSTATUS=stopping workers");
    }

    private void OnPublished(ClusterSnapshot snapshot)
    {
        var status = snapshot.Groups.Count == 0
            ? "no groups"
            : string.Join("; ", snapshot.Groups.Select(g => FormattableString.Invariant($"{g.Name} {g.Ready}/{g.Desired} ready")));
        if (status != _lastStatus)
        {
            _lastStatus = status;
            notifier.Notify("STATUS=" + status);
        }
    }

    private static TimeSpan? WatchdogInterval()
    {
        var usec = Environment.GetEnvironmentVariable("WATCHDOG_USEC");
        var pid = Environment.GetEnvironmentVariable("WATCHDOG_PID");
        if (!long.TryParse(usec, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value <= 0
            || (pid is not null && pid != Environment.ProcessId.ToString(CultureInfo.InvariantCulture)))
        {
            return null;
        }
        return TimeSpan.FromMicroseconds(value / 2.0);
    }

    public void Dispose()
    {
        supervisor.Published -= OnPublished;
        _watchdog?.Dispose();
    }
}
