using System.Globalization;
using System.Text.Json;

namespace Clusterd.IntegrationTests.Infrastructure;

/// <summary>One line of clusterd's <c>--log-format json</c> output.</summary>
internal sealed record LogEntry(int EventId, string Level, string Message, IReadOnlyDictionary<string, string> State, string Raw)
{
    // Property names of Microsoft.Extensions.Logging's JSON console formatter.
    private const string StateProperty = "State";
    private const string EventIdProperty = "EventId";
    private const string MessageProperty = "Message";

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
            if (root.TryGetProperty(StateProperty, out var s) && s.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in s.EnumerateObject())
                {
                    state[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
                }
            }
            return new LogEntry(
                root.GetProperty(EventIdProperty).GetInt32(),
                root.GetProperty("LogLevel").GetString() ?? "",
                root.TryGetProperty(MessageProperty, out var m) ? m.GetString() ?? "" : "",
                state,
                line);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public override string ToString() => Raw;
}
