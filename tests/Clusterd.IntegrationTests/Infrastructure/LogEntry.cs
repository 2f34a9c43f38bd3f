using System.Globalization;
using System.Text.Json;

namespace Clusterd.IntegrationTests.Infrastructure;

/// <summary>One line of clusterd's <c>--log-format json</c> output (src/clusterd/Logging/JsonConsoleFormatter.cs).</summary>
internal sealed record LogEntry(int EventId, string Level, string Message, IReadOnlyDictionary<string, string> State, string Raw)
{
    // clusterd's JSON shape: the message's values under "fields", the worker ones promoted to the top level.
    private const string FieldsProperty = "fields";
    private const string EventIdProperty = "event_id";
    private const string MessageProperty = "message";
    private static readonly string[] s_promoted = ["group", "slot", "pid", "stream"];

    public const int Lifecycle = 10;
    public const int WorkerOutput = 200;
    public const int OutputDropped = 201;

    public string? this[string key] => State.TryGetValue(key, out var v) ? v : null;

    public string? Event => EventId == Lifecycle ? this["Event"] : null;

    public string? Group => this["Group"];

    public int Slot => int.Parse(this["Slot"] ?? "-1", CultureInfo.InvariantCulture);

    public int Pid => int.Parse(this["Pid"] ?? "0", CultureInfo.InvariantCulture);

    public string? Reason => this["Reason"];

    public static LogEntry? TryParse(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            var state = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty(FieldsProperty, out var s) && s.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in s.EnumerateObject())
                {
                    state[p.Name] = Text(p.Value);
                }
            }
            foreach (var name in s_promoted)
            {
                if (root.TryGetProperty(name, out var value))
                {
                    state[char.ToUpperInvariant(name[0]) + name[1..]] = Text(value); // as named in the message template
                }
            }
            var eventId = root.GetProperty(EventIdProperty).GetInt32();
            var message = root.TryGetProperty(MessageProperty, out var m) ? m.GetString() ?? "" : "";
            if (eventId == WorkerOutput)
            {
                state["Line"] = message;
            }
            return new LogEntry(eventId, root.GetProperty("level").GetString() ?? "", message, state, line);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Text(JsonElement value) => value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();

    public override string ToString() => Raw;
}
