using System.Globalization;
using System.Text.Json;

namespace Clusterd.SystemTests;

/// <summary>
/// A package upgrade of a running clusterd (docs/adr/0008, docs/install.md "Upgrading"): `dpkg -i` of a newer .deb,
/// whose postinst runs `clusterctl upgrade --binary /usr/bin/clusterd`.
/// </summary>
public sealed partial class ServiceTests
{
    private const string NewerDeb = "/root/clusterd-newer.deb";

    /// <summary>
    /// Under a new-connection-per-request curl loop (inside the container: it has no network but its loopback), the
    /// upgrade loses no request, and systemd sees clusterd reload, never restart: same MainPID, same invocation, no
    /// restart counted, active once it is over. The workers keep their pids and generations, the journal of events is
    /// the one from before the upgrade, and clusterd's log says it took them over.
    /// </summary>
    [Requires(RequiresAttribute.Docker, RequiresAttribute.DebFile)]
    public async Task ShippedUnit_DpkgInstallNewerDebUnderLoad_ReexecsInPlaceKeepingEveryWorker()
    {
        await StartFreshAsync();
        var newer = await BuildNewerDebAsync();
        await StartShippedUnitAsync();
        await WaitForStatusAsync(ReadyCount(2));
        var version = await DaemonVersionAsync();
        var unit = await UnitRunAsync();
        var workers = await WorkersAsync();
        var events = await EventsAsync();
        var exeBefore = await MainExecutableAsync();

        var report = await RunUnderLoadAsync($"dpkg -i {NewerDeb}");

        Assert.True(report.Refused + report.Timeouts + report.Other == 0, report.Text);
        Assert.Equal(newer, (await _box.MustAsync("dpkg-query -W -f '${Version}' clusterd")).Trim());
        Assert.Contains($"upgraded in place from {version}", report.Text, StringComparison.Ordinal); // the postinst's clusterctl
        Assert.Equal(unit, await UnitRunAsync());
        Assert.Equal("active", (await _box.ExecAsync("systemctl is-active clusterd")).Stdout.Trim());
        Assert.DoesNotContain("upgrading", (await _box.MustAsync("systemctl show -P StatusText clusterd")).Trim(), StringComparison.Ordinal);
        Assert.Equal(workers, await WorkersAsync());
        Assert.Equal(events, await EventsAsync());
        // The newer package carries the same binary (one NativeAOT publish per run), so its version cannot tell the
        // two images apart. What does: the process now runs the file dpkg installed, not the one it replaced.
        var exeAfter = await MainExecutableAsync();
        Assert.NotEqual(exeBefore, exeAfter);
        Assert.Equal((await _box.MustAsync("stat -c %d:%i /usr/bin/clusterd")).Trim(), exeAfter);
        var journal = await _box.MustAsync("journalctl -u clusterd _SYSTEMD_INVOCATION_ID=$(systemctl show -P InvocationID clusterd) -o cat --no-pager");
        Assert.Contains($"upgraded in place from clusterd {version}: took over 1 groups and 2 worker processes", journal, StringComparison.Ordinal);
        await AssertHelloAnswersAsync();
    }

    /// <summary>
    /// A config edited into errors and not yet reloaded: the new binary's check refuses it, and the postinst does not
    /// fall back to a restart, which would stop every worker and then fail ExecStartPre. The old clusterd runs on,
    /// untouched, and once the file is fixed `clusterctl upgrade` (what the postinst says to run) finishes the job.
    /// </summary>
    [Requires(RequiresAttribute.Docker, RequiresAttribute.DebFile)]
    public async Task ShippedUnit_DpkgInstallNewerDebWithBrokenConfigOnDisk_LeavesClusterdRunningAsItWas()
    {
        await StartFreshAsync();
        await BuildNewerDebAsync();
        await StartShippedUnitAsync();
        await WaitForStatusAsync(ReadyCount(2));
        var unit = await UnitRunAsync();
        var workers = await WorkersAsync();
        var exeBefore = await MainExecutableAsync();
        await _box.MustAsync("printf '\n[groups.broken]\ncommand = 42\n' >> /etc/clusterd/clusterd.toml");

        var install = await _box.ExecAsync($"dpkg -i {NewerDeb}");

        Assert.True(install.ExitCode == 0, install.ToString());
        Assert.Contains("clusterd: not restarted either", install.Stderr, StringComparison.Ordinal);
        Assert.Equal(unit, await UnitRunAsync());
        Assert.Equal("active", (await _box.ExecAsync("systemctl is-active clusterd")).Stdout.Trim());
        Assert.Equal(workers, await WorkersAsync());
        Assert.Equal(exeBefore, await MainExecutableAsync());
        await AssertHelloAnswersAsync();

        await _box.MustAsync($"cp {SystemdContainer.PristineConfig} /etc/clusterd/clusterd.toml");
        Assert.Contains("upgraded in place", await _box.MustAsync("clusterctl upgrade"), StringComparison.Ordinal);
        Assert.Equal(workers, await WorkersAsync());
        Assert.Equal((await _box.MustAsync("stat -c %d:%i /usr/bin/clusterd")).Trim(), await MainExecutableAsync());
    }

    /// <summary>
    /// Where clusterd refuses the upgrade (here: a rollout that cannot finish, since its replacement never passes its
    /// health check), the postinst restarts it instead, as before in-place upgrades: a new MainPID and new workers.
    /// That such a restart refuses no connection (the fd store) is ShippedUnit_RestartUnderLoad_RefusesNoConnection's
    /// to show.
    /// </summary>
    [Requires(RequiresAttribute.Docker, RequiresAttribute.DebFile)]
    public async Task ShippedUnit_DpkgInstallNewerDebWhenUpgradeIsRefused_RestartsClusterd()
    {
        await StartFreshAsync();
        await BuildNewerDebAsync();
        // Each start of a "stuck" worker takes one token: with it the worker serves (and passes its http check), without
        // it it only sleeps. So the first worker is ready, its replacement in a restart never is, and the rollout stays
        // under way. (In the logs directory: the unit leaves little else writable, ProtectSystem=strict.)
        await _box.MustAsync("""
            cat >> /etc/clusterd/clusterd.toml <<'EOF'

            [groups.stuck]
            command = ["/bin/sh", "-c", "if rm /var/log/clusterd/stuck-token 2>/dev/null; then exec /usr/lib/clusterd/hello/hello; fi; touch /var/log/clusterd/stuck-sleeps; exec sleep infinity"]
            workers = 1
            listen = ["127.0.0.1:8091"]
            ready = "health"
            ready_timeout = "1h"

            [groups.stuck.health]
            http = "/"
            interval = "1s"
            EOF
            mkdir -p /var/log/clusterd && rm -f /var/log/clusterd/stuck-sleeps && touch /var/log/clusterd/stuck-token
            clusterd --check-config
            """);
        await StartShippedUnitAsync();
        await WaitForStatusAsync(ReadyCount(2));
        await WaitForStatusAsync(ReadyCount(1), "stuck");
        await _box.MustAsync("setsid clusterctl restart stuck >/dev/null 2>&1 < /dev/null &");
        await _box.MustAsync("for i in $(seq 300); do test -e /var/log/clusterd/stuck-sleeps && exit 0; sleep 0.1; done; exit 1");
        // The file on disk without the group (not reloaded): the rollout under way is what refuses, and the restarted
        // clusterd starts from the packaged config.
        await _box.MustAsync($"cp {SystemdContainer.PristineConfig} /etc/clusterd/clusterd.toml");
        var pid = (await _box.MustAsync("systemctl show -P MainPID clusterd")).Trim();
        var workers = await WorkersAsync();

        var install = await _box.ExecAsync($"dpkg -i {NewerDeb}");

        Assert.True(install.ExitCode == 0, install.ToString());
        Assert.Contains("a rollout is in progress", install.Stderr, StringComparison.Ordinal);
        Assert.Contains("clusterd: not upgraded in place; restarting it", install.Stderr, StringComparison.Ordinal);
        Assert.NotEqual(pid, (await _box.MustAsync("systemctl show -P MainPID clusterd")).Trim());
        Assert.Equal("active", (await _box.ExecAsync("systemctl is-active clusterd")).Stdout.Trim());
        await WaitForStatusAsync(ReadyCount(2));
        Assert.Empty((await WorkersAsync()).Intersect(workers));
        await AssertHelloAnswersAsync();
    }

    /// <summary>
    /// The installed package again with a higher version, made in the container from the .deb under test (unpacked,
    /// Version raised, packed again): the same files and maintainer scripts, and `dpkg -i` takes it as an upgrade. A
    /// second NativeAOT publish just to change a version string would add minutes to every run.
    /// </summary>
    private async Task<string> BuildNewerDebAsync()
    {
        var newer = await _box.MustAsync($$"""
            old=$(dpkg-query -W -f '${Version}' clusterd); new="$old+1"
            rm -rf /root/newer && dpkg-deb -R /root/clusterd.deb /root/newer
            sed -i "s/^Version: .*/Version: $new/" /root/newer/DEBIAN/control
            dpkg-deb --root-owner-group -Znone -b /root/newer {{NewerDeb}} >/dev/null && rm -rf /root/newer
            dpkg --compare-versions "$new" gt "$old" && echo "$new"
            """);
        return newer.Trim();
    }

    /// <summary>The running clusterd's version (`clusterctl version --json`), which the binary, not the package, sets.</summary>
    private async Task<string> DaemonVersionAsync()
    {
        using var version = JsonDocument.Parse(await _box.MustAsync("clusterctl version --json"));
        return version.RootElement.GetProperty("daemon").GetProperty("version").GetString()!;
    }

    /// <summary>What a restart of the unit would change: its main pid, invocation, restart count and start times.</summary>
    private async Task<string> UnitRunAsync() => (await _box.MustAsync(
        "systemctl show -p MainPID,InvocationID,NRestarts,ActiveEnterTimestamp,ExecMainStartTimestamp,NFileDescriptorStore clusterd")).Trim();

    /// <summary>The device and inode of the file clusterd's main process runs (/proc/PID/exe, even once deleted).</summary>
    private async Task<string> MainExecutableAsync() =>
        (await _box.MustAsync("stat -L -c %d:%i /proc/$(systemctl show -P MainPID clusterd)/exe")).Trim();

    /// <summary>Every worker of every group, as slot/pid/generation, from `clusterctl status --json`.</summary>
    private async Task<string[]> WorkersAsync()
    {
        using var status = JsonDocument.Parse(await _box.MustAsync("clusterctl status --json"));
        return [.. status.RootElement.GetProperty("groups").EnumerateArray().SelectMany(g => g.GetProperty("workers").EnumerateArray()
            .Select(w => string.Create(CultureInfo.InvariantCulture,
                $"{g.GetProperty("name").GetString()}/{w.GetProperty("slot").GetInt32()} pid={w.GetProperty("pid").GetInt32()} gen={w.GetProperty("generation").GetInt32()}")))];
    }

    /// <summary>The lifecycle journal as seq/group/slot/kind/pid, from `clusterctl events --json`.</summary>
    private async Task<string[]> EventsAsync() =>
        [.. (await _box.MustAsync("clusterctl events --json")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
        {
            using var e = JsonDocument.Parse(line);
            var r = e.RootElement;
            return string.Create(CultureInfo.InvariantCulture,
                $"{r.GetProperty("seq").GetInt64()} {r.GetProperty("group").GetString()}/{r.GetProperty("slot").GetInt32()} {r.GetProperty("kind").GetString()} pid={r.GetProperty("pid").GetInt32()}");
        })];
}
