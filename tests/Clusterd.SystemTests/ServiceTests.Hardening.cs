using System.Globalization;
using System.Text.RegularExpressions;

namespace Clusterd.SystemTests;

/// <summary>
/// What clusterd.service's hardening gives the running clusterd and its workers (docs/security.md, "Service unit"),
/// and what its cgroup delegation lets a process in the unit's sandbox do (per-worker cgroups, ADR 0005).
/// </summary>
public sealed partial class ServiceTests
{
    // capability.h: CAP_CHOWN 0, CAP_KILL 5, CAP_SETGID 6, CAP_SETUID 7, CAP_NET_BIND_SERVICE 10; CAP_BPF 39.
    private const ulong UnitCapabilities = 1UL << 0 | 1UL << 5 | 1UL << 6 | 1UL << 7 | 1UL << 10;
    private const ulong CapBpf = 1UL << 39;
    private const string CgroupProbe = "/usr/local/lib/clusterd-cgroup-probe.sh";

    [Requires(RequiresAttribute.Docker, RequiresAttribute.DebFile)]
    public async Task ShippedUnit_Running_KeepsOnlyTheCapabilitiesLimitsAndPathsTheUnitNames()
    {
        await StartFreshAsync();
        await StartShippedUnitAsync();
        await WaitForHelloWorkersAsync(2);

        // Docker 20.10 cannot give the container CAP_BPF (see the steering test), so the unit keeps it where PID 1 has it.
        var expected = UnitCapabilities | (Mask((await ProcStatusAsync("1"))["CapBnd"]) & CapBpf);
        var clusterd = await ProcStatusAsync("$(systemctl show -P MainPID clusterd)");
        Assert.Equal(expected, Mask(clusterd["CapBnd"]));
        Assert.Equal(expected, Mask(clusterd["CapEff"])); // root: all the bounding set allows
        Assert.Equal("1", clusterd["NoNewPrivs"]);
        Assert.Equal("2", clusterd["Seccomp"]); // filtered: SystemCallFilter=, RestrictNamespaces= & co.
        Assert.Equal("0027", clusterd["Umask"]);
        // A worker runs in the same sandbox: as nobody it has no capability at all, and the same umask.
        var hello = await ProcStatusAsync("$(pgrep -n -x hello)");
        Assert.Equal(0UL, Mask(hello["CapEff"]));
        Assert.Equal(expected, Mask(hello["CapBnd"]));
        Assert.Equal("0027", hello["Umask"]);

        // LimitNOFILE=65536, soft and hard; systemd lowers it to what PID 1 may give (20000 in CI's container).
        Assert.Equal("65536", (await _box.MustAsync("systemctl show -P LimitNOFILE clusterd")).Trim());
        var pid1Hard = (await OpenFilesLimitAsync("1")).Hard;
        var limit = Math.Min(65536, pid1Hard);
        Assert.Equal((limit, limit), await OpenFilesLimitAsync("$(systemctl show -P MainPID clusterd)"));
        Assert.Equal((limit, limit), await OpenFilesLimitAsync("$(pgrep -n -x hello)"));

        Assert.Equal("Delegate=yes\nDelegateControllers=memory pids\nOOMPolicy=continue",
            (await _box.MustAsync("systemctl show -p Delegate -p DelegateControllers -p OOMPolicy clusterd | sort")).Trim());
        Assert.Equal("drwxr-x--x root clusterd", (await _box.MustAsync("stat -c '%A %U %G' /run/clusterd")).Trim());
        Assert.Equal("drwxr-x--- root clusterd", (await _box.MustAsync("stat -c '%A %U %G' /var/log/clusterd")).Trim());
        // In clusterd's mount namespace (ProtectSystem=strict, ProtectHome=read-only): its runtime and log directories and
        // a private /tmp are writable, the rest is not, /run included.
        var writes = await _box.MustAsync("""
            nsenter -t "$(systemctl show -P MainPID clusterd)" -m sh -c '
              for dir in /run/clusterd /var/log/clusterd /tmp /run /etc/clusterd /usr/lib /home /var/lib; do
                if touch "$dir/.probe" 2>/dev/null; then rm "$dir/.probe"; echo "$dir writable"; else echo "$dir read-only"; fi
              done'
            """);
        Assert.Equal(["/run/clusterd writable", "/var/log/clusterd writable", "/tmp writable", "/run read-only",
            "/etc/clusterd read-only", "/usr/lib read-only", "/home read-only", "/var/lib read-only"],
            writes.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>
    /// docs/security.md states this exposure level, with each directive's reason: a change to the unit that moves it
    /// must update the docs, and this number. The image pins systemd 252, so the score is the same on every run.
    /// </summary>
    [Requires(RequiresAttribute.Docker, RequiresAttribute.DebFile)]
    public async Task ShippedUnit_SystemdAnalyzeSecurity_IsTheDocumentedExposureLevel()
    {
        await StartFreshAsync();

        var analysis = await _box.MustAsync("systemd-analyze security --no-pager clusterd.service");

        var level = ExposureLevel().Match(analysis);
        Assert.True(level.Success, analysis);
        Assert.True(level.Groups["level"].Value == "3.2", analysis);
    }

    /// <summary>
    /// The unit's main process, in the unit's sandbox, does with its delegated cgroup what clusterd does: moves itself
    /// into `supervisor`, makes `workers/probe`, puts a process in it, reads cgroup.events and cpu.stat (memory.max
    /// where cgroup v2 has the controller), kills it with cgroup.kill and removes the cgroup. systemd runs
    /// ExecReload= in `.control`, beside clusterd's cgroups, and removes the whole subtree when the unit stops.
    /// </summary>
    [Requires(RequiresAttribute.Docker, RequiresAttribute.DebFile)]
    public async Task DelegatedCgroup_ProbeAsTheUnitsMainProcess_MakesKillsAndRemovesAWorkerCgroup()
    {
        await StartFreshAsync();
        await InstallCgroupProbeAsync();
        var cursor = await JournalCursorAsync();

        await _box.MustAsync("systemctl start clusterd");
        var journal = await WaitForJournalAsync(cursor, "cgroup-probe: ok");
        await _box.MustAsync("systemctl reload clusterd");
        var reload = await WaitForJournalAsync(cursor, "cgroup-probe: reload in");

        var probe = ProbeUnitCgroup().Match(journal);
        Assert.True(probe.Success, journal);
        var own = probe.Groups["own"].Value;
        Assert.EndsWith("/clusterd.service", own, StringComparison.Ordinal);
        Assert.Contains($"cgroup-probe: reload in {own}/.control\n", reload, StringComparison.Ordinal);
        var cgroup = probe.Groups["root"].Value + own;

        await _box.MustAsync("systemctl stop clusterd");
        await _box.MustAsync($"for i in $(seq 50); do [ -e {cgroup} ] || exit 0; sleep 0.2; done; echo '{cgroup} outlived the unit'; exit 1");
    }

    /// <summary>Why the unit does not set ProtectControlGroups=: it makes the delegated subtree read-only too.</summary>
    [Requires(RequiresAttribute.Docker, RequiresAttribute.DebFile)]
    public async Task DelegatedCgroup_WithProtectControlGroups_ProbeFindsItReadOnly()
    {
        await StartFreshAsync();
        await InstallCgroupProbeAsync();
        await AddDropInAsync("60-protect-control-groups", "ProtectControlGroups=yes", "Restart=no");
        var cursor = await JournalCursorAsync();

        await _box.MustAsync("systemctl start clusterd");
        var journal = await WaitForJournalAsync(cursor, "Read-only file system");

        Assert.DoesNotContain("cgroup-probe: ok", journal, StringComparison.Ordinal);
    }

    /// <summary>The probe as the unit's ExecStart= and ExecReload=, in place of clusterd (Type=exec: it sends no READY=1).</summary>
    private async Task InstallCgroupProbeAsync()
    {
        await _box.Container.CopyAsync(await File.ReadAllBytesAsync(Repo.Path("tests", "Clusterd.SystemTests", "cgroup-probe.sh")), CgroupProbe);
        await AddDropInAsync("50-cgroup-probe", "Type=exec", "WatchdogSec=0", "ExecStart=", $"ExecStart=/bin/sh {CgroupProbe}",
            "ExecReload=", $"ExecReload=/bin/sh {CgroupProbe} reload");
    }

    private async Task<string> JournalCursorAsync() =>
        (await _box.MustAsync("journalctl -n 1 -o export --no-pager | sed -n 's/^__CURSOR=//p'")).Trim();

    /// <summary>Waits until clusterd.service's journal after CURSOR has a line containing TEXT; returns that journal.</summary>
    private async Task<string> WaitForJournalAsync(string cursor, string text) => await _box.MustAsync($$"""
        for i in $(seq 100); do
          journal=$(journalctl -u clusterd --no-pager -o cat --after-cursor='{{cursor}}')
          case "$journal" in *'{{text}}'*) printf '%s\n' "$journal"; exit 0 ;; esac
          sleep 0.2
        done
        printf 'no "%s" in the journal:\n%s\n' '{{text}}' "$journal"; exit 1
        """);

    /// <summary>/proc/PID/status as key/value pairs; PID may be a shell expression.</summary>
    private async Task<Dictionary<string, string>> ProcStatusAsync(string pid) =>
        (await _box.MustAsync($"cat /proc/{pid}/status"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(':', 2))
            .ToDictionary(kv => kv[0], kv => kv[1].Trim());

    /// <summary>The soft and hard RLIMIT_NOFILE of PID (a shell expression), from /proc/PID/limits.</summary>
    private async Task<(long Soft, long Hard)> OpenFilesLimitAsync(string pid)
    {
        var fields = (await _box.MustAsync($"awk '/^Max open files/ {{print $4, $5}}' /proc/{pid}/limits")).Split(' ');
        return (long.Parse(fields[0], CultureInfo.InvariantCulture), long.Parse(fields[1], CultureInfo.InvariantCulture));
    }

    private static ulong Mask(string hex) => ulong.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"Overall exposure level for clusterd\.service: (?<level>\d+\.\d)")]
    private static partial Regex ExposureLevel();

    [GeneratedRegex(@"cgroup-probe: unit cgroup (?<own>/\S*) under (?<root>/sys/fs/cgroup\S*)")]
    private static partial Regex ProbeUnitCgroup();
}
