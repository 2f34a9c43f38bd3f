using Clusterd.Platform;

namespace Clusterd.Tests.Platform;

/// <summary>
/// A fact that needs root, gcc or a cgroup2 hierarchy it may create groups in. Without them it is skipped on a
/// developer machine; when CI=true it runs, and fails on what is missing: CI runs as root with gcc installed.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RequiresAttribute : FactAttribute
{
    public const string Root = "root";
    public const string Gcc = "gcc";
    public const string Cgroup2 = "a writable cgroup2 hierarchy";

    /// <summary>Where the tests look for tools: a fixed list, not the PATH the test runner happens to have.</summary>
    public const string ToolPath = "/usr/local/bin:/usr/bin:/bin";

    public RequiresAttribute(params string[] needs)
    {
        var missing = needs.Where(need => !Available(need)).ToList();
        if (missing.Count > 0 && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = $"needs {string.Join(", ", missing)} (not skipped when CI=true)";
        }
    }

    private static bool Available(string need) => need switch
    {
        Root => UserDatabase.IsRoot,
        Gcc => ToolPath.Split(':').Any(dir => File.Exists(Path.Combine(dir, "gcc"))),
        Cgroup2 => UserDatabase.IsRoot && Cgroups.Own() is not null,
        _ => throw new ArgumentException($"unknown requirement '{need}'", nameof(need)),
    };
}
