using System.Net.Sockets;

namespace Clusterd.Supervision;

/// <summary>A snapshot of all a spawn needs, taken on the supervisor loop so the spawner thread reads no shared state.</summary>
internal sealed record LaunchSpec(
    Worker Worker,
    int Incarnation,
    IReadOnlyList<string> Argv,
    IReadOnlyDictionary<string, string?> Environment,
    string? Cwd,
    uint? Uid,
    uint? Gid,
    string? User,
    IReadOnlyList<Socket> Listeners);
