using Clusterd.Platform;

namespace Clusterd.Supervision;

/// <summary>A worker known by its pid, which leads its own process group.</summary>
internal sealed class ProcessGroup(int pid) : IWorkerProcess
{
    public int Pid { get; } = pid;

    public bool Signal(int signal) => Signals.SignalGroup(Pid, signal);
}
