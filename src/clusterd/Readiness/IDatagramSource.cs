namespace Clusterd.Readiness;

/// <summary>Where a <see cref="NotifySocket"/> reads its datagrams: the kernel, or a script in tests.</summary>
internal interface IDatagramSource : IDisposable
{
    /// <summary>Completes when a datagram may be waiting.</summary>
    ValueTask WaitAsync(CancellationToken cancellationToken);

    /// <summary>Takes one datagram without blocking; false when none is queued.</summary>
    /// <exception cref="IOException">The receive failed (an errno other than EAGAIN/EINTR).</exception>
    bool TryReceive(Span<byte> buffer, out int length, out int senderPid, out bool truncated);
}
