using System.Diagnostics;
using System.Globalization;
using Clusterd.Config;
using Clusterd.Control;
using Clusterd.Control.Commands;
using Clusterd.Metrics;
using Clusterd.Platform;
using Clusterd.Protocol;
using Microsoft.Extensions.Logging;

namespace Clusterd.Supervision.Upgrade;

/// <summary>
/// <c>clusterctl upgrade</c> and SIGUSR2 (docs/adr/0008): checks the new binary by running it as a child with
/// <c>--check-upgrade</c>, stops accepting control connections, and asks the loop for the exec. Returns only when the
/// upgrade did not happen, with why; on success this process is the new binary by then.
/// </summary>
internal sealed partial class Upgrader(
    Supervisor supervisor,
    ILogger<Upgrader> logger,
    ServiceManagerNotifier? notifier = null,
    ClusterdMetrics? metrics = null)
{
    /// <summary>How long the new binary may take to say whether it can take over.</summary>
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(60);

    /// <summary>1 while an upgrade is under way: only one at a time.</summary>
    private int _busy;

    /// <summary>The control server, once it exists: it stops accepting for the exec, and its socket is handed on.</summary>
    public ControlServer? Control { get; set; }

    /// <param name="binary">The new binary; null: clusterd's own path, as it is on disk now (a package upgrade replaced it).</param>
    /// <param name="checkedOut">Told the new binary's version once its check passed, just before the hand-over.</param>
    public async Task<OperationResult> UpgradeAsync(string? binary, Func<string, Task>? checkedOut, CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux())
        {
            return OperationResult.Error(ErrorCodes.Failed, "an in-place upgrade is Linux only; restart clusterd instead");
        }
        var own = OwnExecutable.Path ?? "";
        var path = Path.GetFullPath(binary ?? own);
        if (Control is not { } control || supervisor.Config is not { } config)
        {
            return OperationResult.Error(ErrorCodes.Busy, "clusterd is still starting; upgrade once it is up");
        }
        if (Interlocked.Exchange(ref _busy, 1) == 1)
        {
            return OperationResult.Error(ErrorCodes.Busy, "an upgrade is in progress already");
        }
        try
        {
            var (version, problem) = await CheckAsync(path, config.Path, cancellationToken);
            if (problem is not null)
            {
                LogRefused(path, problem);
                return OperationResult.Error(ErrorCodes.Failed, $"{path} cannot take over, nothing changed: {problem}");
            }
            if (checkedOut is not null)
            {
                await checkedOut(version);
            }
            await control.StopAcceptingAsync();
            var result = await supervisor.UpgradeAsync(new UpgradeHandoffRequest(
                path,
                own,
                Environment.GetCommandLineArgs()[1..],
                VersionCommand.Version,
                control.ListenerFd,
                () => metrics?.Export() ?? MetricsCounters.None,
                () => notifier?.Notify(FormattableString.Invariant(
                    $"RELOADING=1\nMONOTONIC_USEC={Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000)}\nSTATUS=upgrading clusterd to {version}"))));
            // Still here: the exec did not happen, and this image goes on.
            control.Accept();
            notifier?.Notify("READY=1");
            return result;
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>
    /// Runs <c>BINARY --check-upgrade VERSION --config PATH</c>: the binary loads the config and says whether it reads
    /// this state version. Its version (first line of its output), or why not.
    /// </summary>
    private static async Task<(string Version, string? Problem)> CheckAsync(string binary, string configPath, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])[Program.CheckUpgradeFlag, UpgradeDocument.Current.ToString(CultureInfo.InvariantCulture), "--config", configPath])
        {
            start.ArgumentList.Add(argument);
        }
        Process? child;
        try
        {
            child = Process.Start(start);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or UnauthorizedAccessException)
        {
            return ("", $"cannot run it: {e.Message}");
        }
        if (child is null)
        {
            return ("", "cannot run it");
        }
        using (child)
        {
            var output = child.StandardOutput.ReadToEndAsync(cancellationToken);
            var errors = child.StandardError.ReadToEndAsync(cancellationToken);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(CheckTimeout);
            try
            {
                await child.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                child.Kill(entireProcessTree: true);
                return ("", $"{Program.CheckUpgradeFlag} did not answer within {CheckTimeout.TotalSeconds:0}s");
            }
            var said = (await output).Trim();
            var complaint = (await errors).Trim();
            if (child.ExitCode != 0)
            {
                var message = complaint.Length > 0 ? complaint : said;
                return ("", $"{Program.CheckUpgradeFlag} exited with {child.ExitCode}{(message.Length > 0 ? $": {message.ReplaceLineEndings("; ")}" : "")}");
            }
            return (said.Split('\n')[0].Trim(), null);
        }
    }

    [LoggerMessage(EventId = 66, Level = LogLevel.Error, Message = "upgrade to {Binary} refused: {Reason}")]
    private partial void LogRefused(string binary, string reason);
}
