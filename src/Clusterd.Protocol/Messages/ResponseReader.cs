using System.Text.Json;

namespace Clusterd.Protocol.Messages;

/// <summary>
/// The client's reader of a <see cref="Response"/>: the envelope and the status payload (ResponseReader.Status.cs) by
/// hand, each other payload with the generated metadata of its own type only when it is there. Reading through
/// <c>ProtocolJsonContext.Default.Response</c> builds the metadata of every type a response can hold, on every command:
/// a fifth of a short clusterctl run's page faults (BENCHMARKS.md, Control). It reads what STJ reads (unknown properties
/// skipped, the last of duplicates wins, a top-level <c>null</c> is no response, STJ's leniency with enums) and refuses
/// what STJ refuses, with no difference known; tests/Clusterd.Protocol.Tests keeps the two in step. clusterd writes with STJ.
/// </summary>
public static partial class ResponseReader
{
    /// <exception cref="ProtocolException">The payload is not a response (<see cref="ErrorCodes.BadFrame"/>).</exception>
    public static Response Read(ReadOnlySpan<byte> payload)
    {
        try
        {
            var reader = new Utf8JsonReader(payload);
            var response = ReadResponse(ref reader);
            if (reader.Read())
            {
                throw new JsonException("more than one value in the response");
            }
            return response ?? throw new ProtocolException(ErrorCodes.BadFrame, "empty response");
        }
        // Utf8JsonReader's Get* methods throw InvalidOperationException for a token of the wrong type or text that is
        // not UTF-8; STJ turns both into JsonException, and both mean the same here: the daemon sent no response.
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new ProtocolException(ErrorCodes.BadFrame, $"malformed response: {e.Message}");
        }
    }

    private static Response? ReadResponse(ref Utf8JsonReader reader)
    {
        Next(ref reader);
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }
        Expect(ref reader, JsonTokenType.StartObject);
        var response = new Response();
        while (NextProperty(ref reader))
        {
            // One arm per property of Response; ResponseReaderTests fails naming any it does not find here.
            if (reader.ValueTextEquals("id"u8))
            {
                response = response with { Id = Int64(ref reader) };
            }
            else if (reader.ValueTextEquals("ok"u8))
            {
                response = response with { Ok = Boolean(ref reader) };
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                response = response with { Error = ErrorInfo(ref reader) };
            }
            else if (reader.ValueTextEquals("more"u8))
            {
                response = response with { More = Boolean(ref reader) };
            }
            else if (reader.ValueTextEquals("message"u8))
            {
                response = response with { Message = String(ref reader) };
            }
            else if (reader.ValueTextEquals("config_errors"u8))
            {
                response = response with { ConfigErrors = Strings(ref reader) };
            }
            else if (reader.ValueTextEquals("cluster"u8))
            {
                response = response with { Cluster = StatusData(ref reader) };
            }
            else if (reader.ValueTextEquals("events"u8))
            {
                response = response with { Events = Payload(ref reader, ProtocolJsonContext.Default.IReadOnlyListLifecycleEvent) };
            }
            else if (reader.ValueTextEquals("logs"u8))
            {
                response = response with { Logs = Payload(ref reader, ProtocolJsonContext.Default.IReadOnlyListLogLine) };
            }
            else if (reader.ValueTextEquals("plan"u8))
            {
                response = response with { Plan = Payload(ref reader, ProtocolJsonContext.Default.ReloadPlan) };
            }
            else if (reader.ValueTextEquals("version"u8))
            {
                response = response with { Version = Payload(ref reader, ProtocolJsonContext.Default.VersionInfo) };
            }
            else
            {
                SkipValue(ref reader);
            }
        }
        return response;
    }

    /// <summary>A payload property's value, read with the generated metadata of its own type only.</summary>
    private static T? Payload<T>(ref Utf8JsonReader reader, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        Next(ref reader);
        return JsonSerializer.Deserialize(ref reader, type);
    }

    private static ErrorInfo? ErrorInfo(ref Utf8JsonReader reader)
    {
        if (NextIsNull(ref reader))
        {
            return null;
        }
        Expect(ref reader, JsonTokenType.StartObject);
        // As STJ builds a record from its constructor: a missing property is null.
        string? code = null;
        string? message = null;
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("code"u8))
            {
                code = String(ref reader);
            }
            else if (reader.ValueTextEquals("message"u8))
            {
                message = String(ref reader);
            }
            else
            {
                SkipValue(ref reader);
            }
        }
        return new ErrorInfo(code!, message!);
    }

    // A null item stays null, as STJ leaves it, whatever the records say.
    private static List<string>? Strings(ref Utf8JsonReader reader) => List(ref reader, StringValue)!;

    /// <summary>An array, each item read from its first token by <paramref name="item"/>; null for <c>null</c>.</summary>
    private static List<T>? List<T>(ref Utf8JsonReader reader, ValueReader<T> item)
    {
        if (NextIsNull(ref reader))
        {
            return null;
        }
        Expect(ref reader, JsonTokenType.StartArray);
        var items = new List<T>();
        while (true)
        {
            Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndArray)
            {
                return items;
            }
            items.Add(item(ref reader));
        }
    }

    private delegate T ValueReader<out T>(ref Utf8JsonReader reader);

    // Numbers as STJ's converters read them, with the reader's own TryGet*: 1.0 is no integer, 1e400 is infinity.
    private static long Int64(ref Utf8JsonReader reader)
    {
        Next(ref reader);
        return Int64Value(ref reader);
    }

    private static long? NullableInt64(ref Utf8JsonReader reader) => NextIsNull(ref reader) ? null : Int64Value(ref reader);

    private static long Int64Value(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.Number);
        return reader.TryGetInt64(out var value) ? value : throw OutOfRange(ref reader, "a 64-bit integer");
    }

    private static int Int32(ref Utf8JsonReader reader)
    {
        Next(ref reader);
        return Int32Value(ref reader);
    }

    private static int? NullableInt32(ref Utf8JsonReader reader) => NextIsNull(ref reader) ? null : Int32Value(ref reader);

    private static int Int32Value(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.Number);
        return reader.TryGetInt32(out var value) ? value : throw OutOfRange(ref reader, "a 32-bit integer");
    }

    private static double? NullableDouble(ref Utf8JsonReader reader) => NextIsNull(ref reader) ? null : DoubleValue(ref reader);

    private static double DoubleValue(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.Number);
        return reader.TryGetDouble(out var value) ? value : throw OutOfRange(ref reader, "a double");
    }

    private static DateTimeOffset? NullableDateTimeOffset(ref Utf8JsonReader reader) =>
        NextIsNull(ref reader) ? null : DateTimeOffsetValue(ref reader);

    /// <summary>As STJ's converter reads it, with the reader's own ISO 8601 parser (no offset: local time).</summary>
    private static DateTimeOffset DateTimeOffsetValue(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.String);
        return reader.TryGetDateTimeOffset(out var value)
            ? value
            : throw new JsonException($"expected an ISO 8601 date and time at byte {reader.TokenStartIndex}");
    }

    private static bool Boolean(ref Utf8JsonReader reader)
    {
        Next(ref reader);
        return reader.TokenType switch
        {
            JsonTokenType.True => true,
            JsonTokenType.False => false,
            _ => throw Unexpected(ref reader, "a boolean"),
        };
    }

    private static string? String(ref Utf8JsonReader reader)
    {
        Next(ref reader);
        return StringValue(ref reader);
    }

    private static string? StringValue(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.String => reader.GetString(),
        _ => throw Unexpected(ref reader, "a string"),
    };

    private static void SkipValue(ref Utf8JsonReader reader)
    {
        Next(ref reader);
        reader.Skip();
    }

    /// <summary>Moves to the next token: true when it is <c>null</c>.</summary>
    private static bool NextIsNull(ref Utf8JsonReader reader)
    {
        Next(ref reader);
        return reader.TokenType == JsonTokenType.Null;
    }

    /// <summary>Moves to the next property's name (true), or past the object's end (false).</summary>
    private static bool NextProperty(ref Utf8JsonReader reader)
    {
        Next(ref reader);
        return reader.TokenType == JsonTokenType.PropertyName;
    }

    /// <summary>The next token; the end of the payload inside a value is malformed JSON, as STJ says.</summary>
    private static void Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new JsonException("the response ends inside a value");
        }
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType expected)
    {
        if (reader.TokenType != expected)
        {
            throw Unexpected(ref reader, expected == JsonTokenType.Number ? "a number" : $"{expected}");
        }
    }

    private static JsonException Unexpected(ref Utf8JsonReader reader, string expected) =>
        new($"expected {expected}, found {reader.TokenType} at byte {reader.TokenStartIndex}");

    private static JsonException OutOfRange(ref Utf8JsonReader reader, string expected) =>
        new($"expected {expected}, found a number that is not one at byte {reader.TokenStartIndex}");
}
