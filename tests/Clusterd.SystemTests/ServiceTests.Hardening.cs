using System.Globalization;
using System.Text.RegularExpressions;

namespace Clusterd.SystemTests;

/// <summary>
/// What clusterd.service's hardening gives the running clusterd and its workers (docs/security.md, "Service unit").
/// </summary>
public sealed partial class ServiceTests
{
    // capability.h: CAP_CHOWN 0, CAP_KILL 5, CAP_SETGID 6, CAP_SETUID 7, CAP_NET_BIND_SERVICE 10; CAP_BPF 39.
    private const ulong UnitCapabilities = 1UL << 0 | 1UL << 5 | 1UL << 6 | 1UL << 7 | 1UL << 10;
    private const ulong CapBpf = 1UL << 39;

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

        Assert.Equal("drwxr-x--x root clusterd", (await _box.MustAsync("stat -c '%A %U %G' /run/clusterd")).Trim());
        Assert.Equal("drwxr-x--- root clusterd", (await _box.MustAsync("stat -c '%A %U %G' /var/log/clusterd")).Trim());
        // In clusterd's mount namespace (ProtectSystem=strict, ProtectHome=read-only): its log directory and a private
        // /tmp are writable, the rest is not.
        var writes = await _box.MustAsync("""
            nsenter -t "$(systemctl show -P MainPID clusterd)" -m sh -c '
              for dir in /var/log/clusterd /tmp /etc/clusterd /usr/lib /home /var/lib; do
                if touch "$dir/.probe" 2>/dev/null; then rm "$dir/.probe"; echo "$dir writable"; else echo "$dir read-only"; fi
              done'
            """);
        Assert.Equal(["/var/log/clusterd writable", "/tmp writable", "/etc/clusterd read-only", "/usr/lib read-only",
            "/home read-only", "/var/lib read-only"], writes.Split('\n', StringSplitOptions.RemoveEmptyEntries));
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
        Assert.True(level.Groups["level"].Value == "3.0", analysis);
    }

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
}
