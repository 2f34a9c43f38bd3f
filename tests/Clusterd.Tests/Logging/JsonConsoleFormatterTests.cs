using System.Text.Json;
using Clusterd.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Clusterd.Tests.Logging;

public class JsonConsoleFormatterTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 17, 0, 0, 123, TimeSpan.Zero));

    private string Format(string category, int eventId, LogLevel level, string message, params (string Key, object? Value)[] state)
    {
        var properties = state.Select(p => new KeyValuePair<string, object?>(p.Key, p.Value))
            .Append(new("{OriginalFormat}", message)).ToList();
        var entry = new LogEntry<List<KeyValuePair<string, object?>>>(level, category, new EventId(eventId), properties, null, (_, _) => message);
        using var writer = new StringWriter();
        new JsonConsoleFormatter(_time).Write(entry, null, writer);
        return writer.ToString();
    }

    [Fact]
    public void Write_WorkerLine_HasTheWorkerFieldsAndItsTextAsMessage()
    {
        var text = Format("clusterd.worker", 200, LogLevel.Error, "web/2 pid 77 stderr: boom \"quoted\"\u001b[31m",
            ("Group", "web"), ("Slot", 2), ("Pid", 77), ("Stream", "stderr"), ("Line", "boom \"quoted\"\u001b[31m"));

        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', text.TrimEnd('\n'));
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        Assert.Equal("2026-11-30T17:00:00.123Z", root.GetProperty("time").GetString());
        Assert.Equal("error", root.GetProperty("level").GetString());
        Assert.Equal("web", root.GetProperty("group").GetString());
        Assert.Equal(2, root.GetProperty("slot").GetInt32());
        Assert.Equal(77, root.GetProperty("pid").GetInt32());
        Assert.Equal("stderr", root.GetProperty("stream").GetString());
        Assert.Equal("boom \"quoted\"\u001b[31m", root.GetProperty("message").GetString());
        Assert.False(root.TryGetProperty("fields", out _));
    }

    [Fact]
    public void Write_OwnMessage_KeepsItsValuesUnderFields()
    {
        var text = Format("clusterd.supervisor", 10, LogLevel.Information, "web/0 exit", ("Group", "web"), ("Event", "exit"), ("Code", 3));

        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        Assert.Equal("info", root.GetProperty("level").GetString());
        Assert.Equal("clusterd.supervisor", root.GetProperty("category").GetString());
        Assert.Equal(10, root.GetProperty("event_id").GetInt32());
        Assert.Equal("web/0 exit", root.GetProperty("message").GetString());
        Assert.Equal("exit", root.GetProperty("fields").GetProperty("Event").GetString());
        Assert.Equal(3, root.GetProperty("fields").GetProperty("Code").GetInt32());
    }
}
