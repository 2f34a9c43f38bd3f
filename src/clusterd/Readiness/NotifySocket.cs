using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using Clusterd.Platform;

namespace Clusterd.Readiness;

/// <summary>
/// The NOTIFY_SOCKET every worker gets: one datagram socket in the abstract namespace (no file to clean up or to
/// chmod for workers that run as another user). Each message is attributed to the pid the kernel reports for its
/// sender (SCM_CREDENTIALS), so a process cannot speak for another.
/// </summary>
internal sealed class NotifySocket : IDisposable
{
    // sd_notify messages are small; systemd itself accepts at most a few KiB.
    private const int MaxMessage = 4096;

    private readonly Socket _socket;
    private readonly Action<int, string> _onMessage;
    private readonly CancellationTokenSource _stop = new();

    private NotifySocket(Socket socket, string address, Action<int, string> onMessage)
    {
        _socket = socket;
        Address = address;
        _onMessage = onMessage;
    }

    /// <summary>The value for NOTIFY_SOCKET, e.g. <c>@clusterd/1234/5f3a…</c>.</summary>
    public string Address { get; }

    [SupportedOSPlatform("linux")]
    public static NotifySocket Open(Action<int, string> onMessage)
    {
        // Unguessable, so no one can take the name first. A v4 Guid's first 12 hex digits come from the OS's
        // CSPRNG (getrandom/arc4random) without loading OpenSSL, as RandomNumberGenerator would (3.4 MiB of RSS).
        var name = $"clusterd/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..12]}";
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            CredentialDatagrams.EnablePassCred(socket);
            socket.Bind(new UnixDomainSocketEndPoint("\0" + name));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var notify = new NotifySocket(socket, "@" + name, onMessage);
        _ = notify.ReceiveLoopAsync();
        return notify;
    }

    [SupportedOSPlatform("linux")]
    private async Task ReceiveLoopAsync()
    {
        var peek = new byte[1];
        var buffer = new byte[MaxMessage];
        try
        {
            while (true)
            {
                // Wait for a datagram without taking it, then take it with its credentials.
                await _socket.ReceiveAsync(peek, SocketFlags.Peek, _stop.Token);
                while (CredentialDatagrams.TryReceive(_socket, buffer, out var length, out var pid))
                {
                    if (pid > 0 && length > 0)
                    {
                        _onMessage(pid, Encoding.UTF8.GetString(buffer, 0, length));
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
    }
}
