using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Clusterd.Logging;

/// <summary>
/// <c>format = "json"</c>: one JSON object per line for everything clusterd writes to its console, so a collector
/// (docker logs, Kubernetes) never meets a line it cannot parse. One shape for all: <c>time</c> (RFC 3339, UTC),
/// <c>level</c>, <c>category</c>, <c>event_id</c>, <c>message</c>; worker lines and clusterd's messages about a worker
/// also carry <c>group</c>, <c>slot</c>, <c>pid</c> and, for worker lines, <c>stream</c>, with the worker's text as the
/// message. The message's other values are under <c>fields</c>, by their names in the message template.
/// </summary>
internal sealed class JsonConsoleFormatter : ConsoleFormatter
{
    public const string FormatterName = "clusterd-json";

    /// <summary>The worker-line message's template property that holds the worker's own text.</summary>
    public const string LineProperty = "Line";

    private static readonly JsonWriterOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly TimeProvider _time;

    public JsonConsoleFormatter()
        : this(TimeProvider.System)
    {
    }

    internal JsonConsoleFormatter(TimeProvider time)
        : base(FormatterName)
    {
        _time = time;
    }

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, s_options))
        {
            json.WriteStartObject();
            json.WriteString("time", _time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            json.WriteString("level", Level(logEntry.LogLevel));
            json.WriteString("category", logEntry.Category);
            json.WriteNumber("event_id", logEntry.EventId.Id);
            var fields = new List<KeyValuePair<string, object?>>();
            if (logEntry.State is IReadOnlyList<KeyValuePair<string, object?>> properties)
            {
                foreach (var property in properties)
                {
                    switch (property.Key)
                    {
                        case "Group" or "Stream":
                            json.WriteString(property.Key.ToLowerInvariant(), Convert.ToString(property.Value, CultureInfo.InvariantCulture));
                            break;
                        case "Slot" or "Pid" when property.Value is int number:
                            json.WriteNumber(property.Key.ToLowerInvariant(), number);
                            break;
                        case LineProperty:
                            message = Convert.ToString(property.Value, CultureInfo.InvariantCulture) ?? "";
                            break;
                        case "{OriginalFormat}":
                            break;
                        default:
                            fields.Add(property);
                            break;
                    }
                }
            }
            json.WriteString("message", message);
            if (fields.Count > 0)
            {
                json.WriteStartObject("fields");
                foreach (var (key, value) in fields)
                {
                    WriteValue(json, key, value);
                }
                json.WriteEndObject();
            }
            if (logEntry.Exception is { } exception)
            {
                json.WriteString("exception", exception.ToString());
            }
            json.WriteEndObject();
        }
        textWriter.Write(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
        textWriter.Write('\n');
    }

    private static void WriteValue(Utf8JsonWriter json, string key, object? value)
    {
        switch (value)
        {
            case null:
                json.WriteNull(key);
                break;
            case bool b:
                json.WriteBoolean(key, b);
                break;
            case int or long or uint or ulong or short:
                json.WriteNumber(key, Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
            case double d when double.IsFinite(d):
                json.WriteNumber(key, d);
                break;
            default:
                json.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }

    /// <summary>Syslog-style names a collector maps without a table: debug, info, warning, error, critical.</summary>
    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warning",
        LogLevel.Error => "error",
        _ => "critical",
    };
}
