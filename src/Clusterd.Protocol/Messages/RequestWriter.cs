using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace Clusterd.Protocol.Messages;

/// <summary>
/// The client's writer of a <see cref="Request"/>: the bytes <c>ProtocolJsonContext.Default.Request</c> writes (every
/// field in declaration order, nulls left out), without building its metadata on every command (BENCHMARKS.md,
/// Control). It writes the JSON itself: a <c>Utf8JsonWriter</c> checks each name and string through the default
/// JavaScriptEncoder, whose tables are ~10 page faults to build. Only a string that needs escaping goes through it
/// (<see cref="JsonEncodedText"/>, the same escaping). tests/Clusterd.Protocol.Tests compares the two byte for byte.
/// clusterd reads with STJ.
/// </summary>
public static class RequestWriter
{
    public static byte[] Write(Request request)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        // One line per property of Request; RequestWriterTests fails naming any it does not find here.
        buffer.Write("{"u8);
        Number(buffer, "\"id\":"u8, request.Id);
        String(buffer, ",\"command\":"u8, request.Command);
        String(buffer, ",\"group\":"u8, request.Group);
        Number(buffer, ",\"slot\":"u8, request.Slot);
        Number(buffer, ",\"count\":"u8, request.Count);
        String(buffer, ",\"signal\":"u8, request.Signal);
        Number(buffer, ",\"since\":"u8, request.Since);
        Boolean(buffer, ",\"follow\":"u8, request.Follow);
        Number(buffer, ",\"lines\":"u8, request.Lines);
        String(buffer, ",\"stream\":"u8, request.Stream);
        if (request.After is { } after)
        {
            buffer.Write(",\"after\":"u8);
            // A date needs no escaping, so this writer never asks the encoder; it writes the form STJ writes.
            using var writer = new Utf8JsonWriter(buffer);
            writer.WriteStringValue(after);
        }
        Boolean(buffer, ",\"dry_run\":"u8, request.DryRun);
        Number(buffer, ",\"max_surge\":"u8, request.MaxSurge);
        Number(buffer, ",\"max_unavailable\":"u8, request.MaxUnavailable);
        String(buffer, ",\"binary\":"u8, request.Binary);
        buffer.Write("}"u8);
        return buffer.WrittenSpan.ToArray();
    }

    /// <param name="name">The separator, the quoted name and the colon.</param>
    private static void String(ArrayBufferWriter<byte> buffer, ReadOnlySpan<byte> name, string? value)
    {
        if (value is null)
        {
            return;
        }
        buffer.Write(name);
        buffer.Write("\""u8);
        if (NeedsNoEscaping(value))
        {
            var length = Encoding.ASCII.GetBytes(value, buffer.GetSpan(value.Length));
            buffer.Advance(length);
        }
        else
        {
            buffer.Write(JsonEncodedText.Encode(value).EncodedUtf8Bytes);
        }
        buffer.Write("\""u8);
    }

    /// <summary>Printable ASCII that the default encoder leaves as it is: all but quotes, backslashes and &amp;'+&lt;&gt;`.</summary>
    private static readonly SearchValues<char> s_unescaped =
        SearchValues.Create(" !#$%()*,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz{|}~");

    private static bool NeedsNoEscaping(string value) => !value.AsSpan().ContainsAnyExcept(s_unescaped);

    private static void Number(ArrayBufferWriter<byte> buffer, ReadOnlySpan<byte> name, long? value)
    {
        if (value is not { } number)
        {
            return;
        }
        buffer.Write(name);
        Utf8Formatter.TryFormat(number, buffer.GetSpan(20), out var length);
        buffer.Advance(length);
    }

    private static void Boolean(ArrayBufferWriter<byte> buffer, ReadOnlySpan<byte> name, bool value)
    {
        buffer.Write(name);
        buffer.Write(value ? "true"u8 : "false"u8);
    }
}
