using System.Net.Sockets;

namespace Clusterd.Supervision;

/// <summary>
/// A snapshot of all a spawn needs, taken on the supervisor loop so the spawner thread reads no shared state. The
/// user and group are names: the spawner resolves them (NSS may be slow), never the loop.
/// </summary>
/// <param name="Configured">The group's <c>env</c>.</param>
/// <param name="Contract">What clusterd sets (<see cref="Config.ReservedEnvironment"/>); it overrides everything.</param>
/// <param name="MemoryMax">memory_max: the worker's cgroup gets this memory.max, or the spawn is refused.</param>
internal sealed record LaunchSpec(
    Worker Worker,
    int Incarnation,
    IReadOnlyList<string> Argv,
    IReadOnlyDictionary<string, string> Configured,
    IReadOnlyDictionary<string, string> Contract,
    string? Cwd,
    string? User,
    string? Group,
    IReadOnlyList<Socket> Listeners,
    long? MemoryMax = null);
