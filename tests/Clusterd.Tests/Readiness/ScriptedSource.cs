using System.Text;
using System.Threading.Channels;
using Clusterd.Readiness;

namespace Clusterd.Tests.Readiness;

/// <summary>Datagrams and failures for a <see cref="NotifySocket"/>, played back in order, as the kernel would hand them over.</summary>
internal sealed class ScriptedSource : IDatagramSource
{
    private readonly Channel<Func<(byte[] Data, int Pid, bool Truncated)>> _script = Channel.CreateUnbounded<Func<(byte[], int, bool)>>();

    public bool Disposed { get; private set; }

    public void Send(string datagram, int pid, bool truncated = false) =>
        _script.Writer.TryWrite(() => (Encoding.UTF8.GetBytes(datagram), pid, truncated));

    public void Fail(Exception e) => _script.Writer.TryWrite(() => throw e);

    public async ValueTask WaitAsync(CancellationToken cancellationToken) => await _script.Reader.WaitToReadAsync(cancellationToken);

    public bool TryReceive(Span<byte> buffer, out int length, out int senderPid, out bool truncated)
    {
        (length, senderPid, truncated) = (0, 0, false);
        if (!_script.Reader.TryRead(out var next))
        {
            return false;
        }
        var (data, pid, cut) = next();
        data.CopyTo(buffer);
        (length, senderPid, truncated) = (data.Length, pid, cut);
        return true;
    }

    public void Dispose() => Disposed = true;
}
