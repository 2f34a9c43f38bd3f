using System.Collections.Concurrent;
using System.IO.Pipes;
using Microsoft.Win32.SafeHandles;

namespace Clusterd.Supervision;

/// <summary>
/// The output pipes across an in-place upgrade (docs/adr/0008): the read ends go by fd number; what a worker writes
/// during the exec waits in its pipe (64 KiB each) and is read by the new image.
/// </summary>
internal sealed partial class OutputCapture
{
    private readonly ConcurrentDictionary<(Worker Worker, string Stream), Stream> _pipes = new();

    /// <summary>The read end of a worker's <paramref name="stream"/> pipe (stdout, stderr), while it is read.</summary>
    public int? PipeFd(Worker worker, string stream) =>
        _pipes.TryGetValue((worker, stream), out var pipe) && pipe is PipeStream { SafePipeHandle: var handle } && !handle.IsClosed
            ? (int)handle.DangerousGetHandle()
            : null;

    /// <summary>Reads a pipe the previous image read: from now on this process owns the fd.</summary>
    public void Adopt(Worker worker, int fd, string stream) =>
        Capture(worker, worker.Pid, new AnonymousPipeClientStream(PipeDirection.In, new SafePipeHandle(fd, ownsHandle: true)), stream);
}
