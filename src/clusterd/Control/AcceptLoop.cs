using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Clusterd.Control;

/// <summary>
/// The control socket's accept loop. A failed accept is not any one client's doing, and trying again at once does not
/// help: out of descriptors (EMFILE, ENFILE) or memory, the connection stays in the backlog, the socket stays readable
/// and accept fails again, a spin that takes a core from the workers and floods the log. So after a failure the loop
/// waits, <see cref="FirstDelay"/> doubling up to <see cref="MaxDelay"/> (on the TimeProvider), and the first accept
/// that works ends the episode. One warning per episode, and one line when it ends.
/// </summary>
internal static partial class AcceptLoop
{
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(10);
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(1);

    /// <param name="acceptOne">Accepts one connection and hands it on; a <see cref="SocketException"/> from it is an accept failure.</param>
    public static async Task RunAsync(Func<CancellationToken, ValueTask> acceptOne, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        var failures = 0;
        var delay = FirstDelay;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await acceptOne(cancellationToken);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return; // clusterd is stopping
            }
            catch (SocketException e)
            {
                if (failures++ == 0)
                {
                    LogAcceptFailing(logger, e.Message, FirstDelay.TotalMilliseconds, MaxDelay.TotalMilliseconds);
                }
                try
                {
                    await Task.Delay(delay, time, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
                continue;
            }
            if (failures > 0)
            {
                LogAcceptRecovered(logger, failures);
                failures = 0;
                delay = FirstDelay;
            }
        }
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Warning,
        Message = "control socket: accept failed: {Reason}; retrying after {FirstMs} ms, backing off to {MaxMs} ms until it works (are clusterd's descriptors exhausted?)")]
    private static partial void LogAcceptFailing(ILogger logger, string reason, double firstMs, double maxMs);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "control socket: accepting again after {Failures} failed attempts")]
    private static partial void LogAcceptRecovered(ILogger logger, int failures);
}
