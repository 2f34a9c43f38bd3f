using System.Globalization;
using System.Text.Json;

namespace Clusterd.Protocol.Messages;

// The cluster payload (StatusData) by hand as well: STJ's metadata of StatusData, GroupStatus, WorkerStatus and their
// enums, lists and nullables was a fifth of a `clusterctl status`'s page faults (BENCHMARKS.md, Control). As STJ builds
// a record from its constructor, a missing property is the parameter's default; the states are read as STJ's string
// enum converter reads them (EnumValue), leniency included. ResponseReaderTests fails, naming it, for a constructor
// parameter of StatusData, GroupStatus or WorkerStatus that no arm here reads.
public static partial class ResponseReader
{
    private static StatusData? StatusData(ref Utf8JsonReader reader)
    {
        if (NextIsNull(ref reader))
        {
            return null;
        }
        Expect(ref reader, JsonTokenType.StartObject);
        List<GroupStatus?>? groups = null;
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("groups"u8))
            {
                groups = List(ref reader, Group);
            }
            else
            {
                SkipValue(ref reader);
            }
        }
        // A null item stays null, as STJ leaves it, whatever the records say.
        return new StatusData(groups!);
    }

    /// <summary>A group from its first token.</summary>
    private static GroupStatus? Group(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }
        Expect(ref reader, JsonTokenType.StartObject);
        string? name = null;
        int desired = 0, ready = 0, generation = 0;
        PublicGroupState state = default;
        List<string>? listen = null;
        List<WorkerStatus?>? workers = null;
        string? workersSource = null;
        int? requiredReady = null;
        DateTimeOffset? statsReadAt = null;
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("name"u8))
            {
                name = String(ref reader);
            }
            else if (reader.ValueTextEquals("desired"u8))
            {
                desired = Int32(ref reader);
            }
            else if (reader.ValueTextEquals("ready"u8))
            {
                ready = Int32(ref reader);
            }
            else if (reader.ValueTextEquals("state"u8))
            {
                state = (PublicGroupState)EnumValue(ref reader, StateNames.Groups);
            }
            else if (reader.ValueTextEquals("generation"u8))
            {
                generation = Int32(ref reader);
            }
            else if (reader.ValueTextEquals("listen"u8))
            {
                listen = Strings(ref reader);
            }
            else if (reader.ValueTextEquals("workers"u8))
            {
                workers = List(ref reader, Worker);
            }
            else if (reader.ValueTextEquals("workers_source"u8))
            {
                workersSource = String(ref reader);
            }
            else if (reader.ValueTextEquals("required_ready"u8))
            {
                requiredReady = NullableInt32(ref reader);
            }
            else if (reader.ValueTextEquals("stats_read_at"u8))
            {
                statsReadAt = NullableDateTimeOffset(ref reader);
            }
            else
            {
                SkipValue(ref reader);
            }
        }
        return new GroupStatus(name!, desired, ready, state, generation, listen!, workers!, workersSource, requiredReady, statsReadAt);
    }

    /// <summary>A worker from its first token.</summary>
    private static WorkerStatus? Worker(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }
        Expect(ref reader, JsonTokenType.StartObject);
        int slot = 0, pid = 0, generation = 0, restarts = 0;
        PublicWorkerState state = default;
        double? uptimeSeconds = null, cpuSeconds = null, healthLatencySeconds = null;
        string? lastExit = null, status = null, health = null, healthFailure = null;
        int? lastExitCode = null, lastExitSignal = null;
        long? rssBytes = null;
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("slot"u8))
            {
                slot = Int32(ref reader);
            }
            else if (reader.ValueTextEquals("pid"u8))
            {
                pid = Int32(ref reader);
            }
            else if (reader.ValueTextEquals("state"u8))
            {
                state = (PublicWorkerState)EnumValue(ref reader, StateNames.Workers);
            }
            else if (reader.ValueTextEquals("generation"u8))
            {
                generation = Int32(ref reader);
            }
            else if (reader.ValueTextEquals("restarts"u8))
            {
                restarts = Int32(ref reader);
            }
            else if (reader.ValueTextEquals("uptime_seconds"u8))
            {
                uptimeSeconds = NullableDouble(ref reader);
            }
            else if (reader.ValueTextEquals("last_exit"u8))
            {
                lastExit = String(ref reader);
            }
            else if (reader.ValueTextEquals("last_exit_code"u8))
            {
                lastExitCode = NullableInt32(ref reader);
            }
            else if (reader.ValueTextEquals("last_exit_signal"u8))
            {
                lastExitSignal = NullableInt32(ref reader);
            }
            else if (reader.ValueTextEquals("cpu_seconds"u8))
            {
                cpuSeconds = NullableDouble(ref reader);
            }
            else if (reader.ValueTextEquals("rss_bytes"u8))
            {
                rssBytes = NullableInt64(ref reader);
            }
            else if (reader.ValueTextEquals("status"u8))
            {
                status = String(ref reader);
            }
            else if (reader.ValueTextEquals("health"u8))
            {
                health = String(ref reader);
            }
            else if (reader.ValueTextEquals("health_latency_seconds"u8))
            {
                healthLatencySeconds = NullableDouble(ref reader);
            }
            else if (reader.ValueTextEquals("health_failure"u8))
            {
                healthFailure = String(ref reader);
            }
            else
            {
                SkipValue(ref reader);
            }
        }
        return new WorkerStatus(slot, pid, state, generation, restarts, uptimeSeconds, lastExit, lastExitCode, lastExitSignal,
            cpuSeconds, rssBytes, status, health, healthLatencySeconds, healthFailure);
    }

    /// <summary>
    /// A state, its value in <paramref name="names"/> (the wire names by value), as STJ's string enum converter reads
    /// it. clusterd writes the name; STJ also takes, and so this does, the name with white space around it, an integer
    /// (defined or not) as a number or in a string, and names joined by commas with their values or'ed together, as for
    /// a [Flags] enum, which these are not ("ready,draining" is stopping). A name must match exactly, case included.
    /// </summary>
    private static int EnumValue(ref Utf8JsonReader reader, string[] names)
    {
        Next(ref reader);
        if (reader.TokenType == JsonTokenType.Number)
        {
            return Int32Value(ref reader);
        }
        Expect(ref reader, JsonTokenType.String);
        for (var value = 0; value < names.Length; value++)
        {
            if (reader.ValueTextEquals(names[value]))
            {
                return value;
            }
        }
        // The daemon's text stays out of the message: it may hold anything, terminal escapes included.
        return LenientEnumValue(reader.GetString().AsSpan().Trim(), names)
            ?? throw new JsonException($"expected one of {string.Join(", ", names)} at byte {reader.TokenStartIndex}");
    }

    private static int? LenientEnumValue(ReadOnlySpan<char> text, string[] names)
    {
        var digits = text.Length > 0 && text[0] is '+' or '-' ? text[1..] : text;
        if (digits.Length > 0 && !digits.ContainsAnyExceptInRange('0', '9'))
        {
            return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) ? number : null;
        }
        var value = 0;
        while (true)
        {
            var comma = text.IndexOf(',');
            var name = comma < 0 ? text : text[..comma].TrimEnd();
            var named = IndexOf(names, name);
            if (named < 0)
            {
                return null;
            }
            value |= named;
            text = comma < 0 ? [] : text[(comma + 1)..].TrimStart();
            if (text.IsEmpty)
            {
                return value;
            }
        }
    }

    private static int IndexOf(string[] names, ReadOnlySpan<char> name)
    {
        for (var value = 0; value < names.Length; value++)
        {
            if (name.SequenceEqual(names[value]))
            {
                return value;
            }
        }
        return -1;
    }
}
