using System.Text.Json;
using System.Text.Json.Serialization;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;

namespace Clusterd.Fuzz;

/// <summary>
/// Bytes a local client sends to the control socket, read as clusterd reads them: frames (<see cref="Framing"/>,
/// with the request size limit), each payload a <see cref="Request"/>. The contract: a frame is a payload, a clean
/// end, or a <see cref="ProtocolException"/> with one line of text; a payload is a request or a
/// <see cref="JsonException"/> (clusterd answers both and goes on); never another exception. A request that is read
/// comes back the same through the encoder, so what clusterd audits and answers is what was sent.
/// The same payloads are then read as a <see cref="Response"/> by STJ and by clusterctl's <see cref="ResponseReader"/>:
/// both refuse it, or both read the same response.
/// </summary>
internal static class ControlTarget
{
    /// <summary>
    /// Writes what was read, infinities included: both readers read a number too large for a double (1e400) as one,
    /// which the default options refuse to write.
    /// </summary>
    private static readonly ProtocolJsonContext s_written = new(new JsonSerializerOptions(ProtocolJsonContext.Default.Options)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    });

    public static void Run(ReadOnlySpan<byte> input)
    {
        using var stream = new MemoryStream(input.ToArray(), writable: false);
        while (true)
        {
            byte[]? payload;
            try
            {
                // A MemoryStream completes every read at once: this never blocks.
                payload = Framing.ReadAsync(stream, Framing.MaxRequestPayload, frameStarted: null, CancellationToken.None).GetAwaiter().GetResult();
            }
            catch (ProtocolException e)
            {
                Require(e.Code.Length > 0 && e.Message.Length > 0 && !e.Message.Any(char.IsControl), $"a protocol error is empty or not one line: {e.Code} {e.Message}");
                return;
            }
            if (payload is null)
            {
                return;
            }
            Require(payload.Length <= Framing.MaxRequestPayload, $"a payload of {payload.Length} bytes passed the request limit");
            ReadRequest(payload);
            ReadResponse(payload);
        }
    }

    private static void ReadRequest(byte[] payload)
    {
        Request? request;
        try
        {
            request = JsonSerializer.Deserialize(payload, ProtocolJsonContext.Default.Request);
        }
        catch (JsonException)
        {
            return;
        }
        if (request is null)
        {
            return;
        }
        var written = JsonSerializer.SerializeToUtf8Bytes(request, ProtocolJsonContext.Default.Request);
        var again = JsonSerializer.Deserialize(written, ProtocolJsonContext.Default.Request);
        Require(request == again, $"a request does not survive its own encoder: {request} became {again}");
        // clusterctl writes its requests by hand (RequestWriter): the same bytes, whatever the request holds.
        Require(RequestWriter.Write(request).AsSpan().SequenceEqual(written), $"RequestWriter writes other bytes than STJ for {request}");
    }

    /// <summary>STJ's reader and clusterctl's (<see cref="ResponseReader"/>) accept the same payloads and read them alike.</summary>
    private static void ReadResponse(byte[] payload)
    {
        Response? expected;
        try
        {
            expected = JsonSerializer.Deserialize(payload, ProtocolJsonContext.Default.Response);
        }
        catch (JsonException)
        {
            expected = null;
        }
        Response? actual;
        try
        {
            actual = ResponseReader.Read(payload);
        }
        catch (ProtocolException e) when (e.Code == ErrorCodes.BadFrame)
        {
            actual = null;
        }
        Require(Text(expected) == Text(actual), $"clusterctl's reader read {Text(actual)} where STJ read {Text(expected)}");
    }

    /// <summary>Records hold lists by reference: what two readers read is compared by how STJ writes it.</summary>
    private static string Text(Response? response) =>
        response is null ? "nothing" : JsonSerializer.Serialize(response, s_written.Response);

    private static void Require(bool condition, string broken)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"the control protocol reader broke its contract: {broken}");
        }
    }
}
