using Clusterd.Readiness;

namespace Clusterd.Fuzz;

/// <summary>
/// One sd_notify datagram from a worker (any worker may send anything) into <see cref="NotifyMessage.TryParse"/>.
/// The contract: a message or a refusal, never an exception; a refusal exactly when systemd refuses too (a NUL byte);
/// a STATUS= text is valid UTF-8 that was in the datagram; and folding a message into itself changes nothing.
/// </summary>
internal static class NotifyTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        var parsed = NotifyMessage.TryParse(input, out var message);
        Require(parsed == !input.Contains((byte)0), parsed ? "a datagram with a NUL byte was taken" : "a datagram without a NUL byte was refused");
        if (!parsed)
        {
            Require(message.IsEmpty, "a refused datagram still asked for something");
            return;
        }
        if (message.Status is { } status)
        {
            Require(input.IndexOf(System.Text.Encoding.UTF8.GetBytes("STATUS=" + status)) >= 0, "STATUS= is not the text the datagram carried");
        }
        Require(message.Then(message) == message, "a message folded into itself changed");
        _ = message.ToString();
    }

    private static void Require(bool condition, string broken)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"the sd_notify parser broke its contract: {broken}");
        }
    }
}
