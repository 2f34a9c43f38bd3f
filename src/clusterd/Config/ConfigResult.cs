using System.Diagnostics.CodeAnalysis;

namespace Clusterd.Config;

/// <summary>The outcome of loading a config: either a validated config or every error found, never both.</summary>
internal sealed record ConfigResult(ClusterConfig? Config, IReadOnlyList<ConfigError> Errors)
{
    [MemberNotNullWhen(true, nameof(Config))]
    public bool IsValid => Config is not null;
}
