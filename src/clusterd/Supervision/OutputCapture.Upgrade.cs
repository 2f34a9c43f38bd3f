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
    private readonly ConcurrentDictionary<(Worker Worker, string Stream), PipeStream> _pipes = new();

    private readonly List<SafePipeHandle> _pinned = []; // the loop's, during an upgrade

    /// <summary>
    /// The read end of a worker's <paramref name="stream"/> pipe (stdout, stderr), while it is read, pinned open for
    /// the exec: its reader closes it at EOF, on a thread of its own, and the number must not go away or name another
    /// file (a control connection accepted meanwhile) before the exec. <see cref="UnpinPipes"/> after a failed exec.
    /// </summary>
    public int? PipeFd(Worker worker, string stream)
    {
        if (!_pipes.TryGetValue((worker, stream), out var pipe))
        {
            return null;
        }
        try
        {
            var handle = pipe.SafePipeHandle;
            var added = false;
            handle.DangerousAddRef(ref added);
            _pinned.Add(handle);
            return (int)handle.DangerousGetHandle();
        }
        catch (ObjectDisposedException)
        {
            return null; // at EOF and closed already: the worker's output is over, nothing to hand on
        }
    }

    /// <summary>Lets the pipes <see cref="PipeFd"/> pinned close again: the exec failed and this image goes on.</summary>
    public void UnpinPipes()
    {
        foreach (var handle in _pinned)
        {
            handle.DangerousRelease();
        }
        _pinned.Clear();
    }

    /// <summary>Reads a pipe the previous image read: from now on this process owns the fd.</summary>
    public void Adopt(Worker worker, int fd, string stream) =>
        Capture(worker, worker.Pid, new AnonymousPipeClientStream(PipeDirection.In, new SafePipeHandle(fd, ownsHandle: true)), stream);
}
