using Clusterd.Config;
using Clusterd.Sockets;

namespace Clusterd.Supervision;

/// <summary>A configured group as it runs: its config, its sockets and its worker slots.</summary>
internal sealed class GroupRuntime : IDisposable
{
    public GroupRuntime(GroupConfig config, GroupListeners listeners, int generation)
    {
        Config = config;
        Listeners = listeners;
        Generation = generation;
        for (var slot = 0; slot < config.Workers; slot++)
        {
            Workers.Add(new Worker(this, slot));
        }
    }

    public GroupConfig Config { get; }

    public GroupListeners Listeners { get; }

    public int Generation { get; }

    public List<Worker> Workers { get; } = [];

    public void Dispose() => Listeners.Dispose();
}
