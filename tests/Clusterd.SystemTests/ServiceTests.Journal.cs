using System.Text.Json;

namespace Clusterd.SystemTests;

/// <summary>Worker lines in the real journal of the booted container (docs/logging.md).</summary>
public sealed partial class ServiceTests
{
    /// <summary>A group that writes one stdout line, one with a &lt;4&gt; prefix and one stderr line, then stays up.</summary>
    private const string ChattyGroup = """

        [groups.chatty]
        command = ["/bin/sh", "-c", "echo 'out line'; echo '<4>warned'; echo 'err line' >&2; exec sleep infinity"]
        ready = "started"
        """;

    [Requires(RequiresAttribute.Docker, RequiresAttribute.DebFile)]
    public async Task ShippedUnit_WorkerLines_AreJournalEntriesWithTheirGroupSlotAndPriority()
    {
        await StartFreshAsync();
        await _box.MustAsync($"cat >> /etc/clusterd/clusterd.toml <<'EOF'\n{ChattyGroup}\nEOF");
        await StartShippedUnitAsync();

        await _box.MustAsync(
            "for i in $(seq 100); do journalctl -o cat CLUSTERD_GROUP=chatty CLUSTERD_SLOT=0 --no-pager | grep -q 'err line' && exit 0; sleep 0.2; done; " +
            "echo 'no err line in the journal:'; journalctl -u clusterd --no-pager -n 40; exit 1");
        var entries = (await _box.MustAsync("journalctl -o json CLUSTERD_GROUP=chatty CLUSTERD_SLOT=0 --no-pager"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .ToDictionary(e => e.GetProperty("MESSAGE").GetString()!, StringComparer.Ordinal);

        Assert.Equal(("6", "stdout"), Fields(entries["out line"]));
        Assert.Equal(("4", "stdout"), Fields(entries["warned"]));
        Assert.Equal(("3", "stderr"), Fields(entries["err line"]));
        Assert.All(entries.Values, e =>
        {
            Assert.Equal("clusterd.service", e.GetProperty("_SYSTEMD_UNIT").GetString());
            Assert.Equal("chatty", e.GetProperty("SYSLOG_IDENTIFIER").GetString());
            Assert.Equal(e.GetProperty("CLUSTERD_WORKER_PID").GetString(), e.GetProperty("SYSLOG_PID").GetString());
        });
        var byIdentifier = await _box.MustAsync("journalctl -t chatty -o cat --no-pager");
        Assert.Contains("out line", byIdentifier, StringComparison.Ordinal);
        var errorsOnly = await _box.MustAsync("journalctl -t chatty -p err -o cat --no-pager");
        Assert.Equal("err line", errorsOnly.Trim());

        await _box.MustAsync("clusterctl scale chatty 1");
        var audit = await _box.MustAsync("journalctl -u clusterd CLUSTERD_AUDIT=1 -o cat --no-pager");
        Assert.Contains("scale", audit, StringComparison.Ordinal);
    }

    private static (string? Priority, string? Stream) Fields(JsonElement entry) =>
        (entry.GetProperty("PRIORITY").GetString(), entry.GetProperty("CLUSTERD_STREAM").GetString());
}
