using Clusterd.IntegrationTests.Infrastructure;

namespace Clusterd.IntegrationTests.Supervision.Upgrade;

/// <summary>
/// The NativeAOT clusterd that `make publish` (and so `make test`, through `make deb`) leaves in dist/linux-x64/, next
/// to its clusterd-exec: one file, as the package installs it. The JIT build cannot stand in where the test replaces
/// the running binary on disk: its apphost finds its runtime and clusterd.dll through /proc/self/exe, which then reads
/// "PATH (deleted)" and resolves to nothing, and its clusterd.dll would be the replaced one anyway.
/// </summary>
internal static class PublishedBuild
{
    public static string Directory { get; } = Path.Combine(Repo.Root, "dist", "linux-x64");

    public static string Clusterd => Path.Combine(Directory, "clusterd");

    public static string ExecHelper => Path.Combine(Directory, "clusterd-exec");

    /// <summary>Why it cannot be used (missing, or older than the build the tests run: not this source), or null.</summary>
    public static string? Problem
    {
        get
        {
            if (!File.Exists(Clusterd) || !File.Exists(ExecHelper))
            {
                return $"{Clusterd} and its clusterd-exec are missing: run `make publish` (make test does)";
            }
            var built = File.GetLastWriteTimeUtc(Path.Combine(Path.GetDirectoryName(Repo.Clusterd)!, "clusterd.dll"));
            return File.GetLastWriteTimeUtc(Clusterd) < built
                ? $"{Clusterd} is older than the build under test: run `make publish` (make test does)"
                : null;
        }
    }
}

/// <summary>A fact that needs <see cref="PublishedBuild"/>: skipped on a laptop without it, run (and failing on it) when CI=true.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class RequiresPublishedBuildAttribute : FactAttribute
{
    public RequiresPublishedBuildAttribute()
    {
        if (PublishedBuild.Problem is { } problem && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = $"needs the NativeAOT build: {problem} (not skipped when CI=true)";
        }
    }
}
