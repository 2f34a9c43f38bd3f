namespace Clusterd.SystemTests;

/// <summary>
/// A fact that needs host tools (dpkg-deb, systemd-analyze, python3, docker, debootstrap) or the built .deb. Without
/// them it is skipped on a developer machine, but it runs, and fails on what is missing, when CI=true: CI must never
/// go green by skipping the system tests.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RequiresAttribute : FactAttribute
{
    public const string Docker = "docker";
    public const string DebFile = "deb";

    public RequiresAttribute(params string[] needs)
    {
        if (IsCi)
        {
            return;
        }
        var missing = needs.Where(need => !Available(need)).ToList();
        if (missing.Count > 0)
        {
            Skip = $"needs {string.Join(", ", missing)} (not skipped when CI=true)";
        }
    }

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private static readonly Lazy<bool> s_docker = new(() =>
    {
        if (!HostProcess.OnPath("docker") || !HostProcess.OnPath("debootstrap"))
        {
            return false;
        }
        try
        {
            return HostProcess.RunAsync("docker", ["info", "--format", "{{.ServerVersion}}"], TimeSpan.FromSeconds(10))
                .GetAwaiter().GetResult().ExitCode == 0;
        }
        catch (TimeoutException)
        {
            return false;
        }
    });

    private static bool Available(string need) => need switch
    {
        Docker => s_docker.Value,
        DebFile => Repo.Deb is not null,
        _ => HostProcess.OnPath(need),
    };
}
