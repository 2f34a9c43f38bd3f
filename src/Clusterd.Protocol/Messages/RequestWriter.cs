using System.Buffers;
using System.Text.Json;

namespace Clusterd.Protocol.Messages;

/// <summary>
/// The client's writer of a <see cref="Request"/>: the bytes <c>ProtocolJsonContext.Default.Request</c> writes (every
/// field in declaration order, nulls left out), without building its metadata on every command (BENCHMARKS.md,
/// Control). tests/Clusterd.Protocol.Tests compares the two byte for byte. clusterd reads with STJ.
/// </summary>
public static class RequestWriter
{
    public static byte[] Write(Request request)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            // One line per property of Request; RequestWriterTests fails naming any it does not find here.
            writer.WriteStartObject();
            writer.WriteNumber("id"u8, request.Id);
            writer.WriteString("command"u8, request.Command);
            WriteIfSet(writer, "group"u8, request.Group);
            WriteIfSet(writer, "slot"u8, request.Slot);
            WriteIfSet(writer, "count"u8, request.Count);
            WriteIfSet(writer, "signal"u8, request.Signal);
            if (request.Since is { } since)
            {
                writer.WriteNumber("since"u8, since);
            }
            writer.WriteBoolean("follow"u8, request.Follow);
            WriteIfSet(writer, "lines"u8, request.Lines);
            WriteIfSet(writer, "stream"u8, request.Stream);
            if (request.After is { } after)
            {
                writer.WriteString("after"u8, after);
            }
            writer.WriteBoolean("dry_run"u8, request.DryRun);
            WriteIfSet(writer, "max_surge"u8, request.MaxSurge);
            WriteIfSet(writer, "max_unavailable"u8, request.MaxUnavailable);
            WriteIfSet(writer, "binary"u8, request.Binary);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteIfSet(Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    private static void WriteIfSet(Utf8JsonWriter writer, ReadOnlySpan<byte> name, int? value)
    {
        if (value is { } set)
        {
            writer.WriteNumber(name, set);
        }
    }
}
