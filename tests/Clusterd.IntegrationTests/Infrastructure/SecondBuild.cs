using System.Diagnostics;
using Xunit;

namespace Clusterd.IntegrationTests.Infrastructure;

/// <summary>
/// A second clusterd, built once per test run from the same sources with another <c>Version</c>, for in-place
/// upgrades between two builds. Its own artifacts directory (obj too), so the solution's build is not disturbed;
/// under bin/, so a second run builds incrementally.
/// </summary>
public sealed class SecondBuild : IAsyncLifetime
{
    public const string Version = "99.0.0-upgrade";

    private static readonly TimeSpan s_buildTimeout = TimeSpan.FromMinutes(15);

    private static readonly string s_artifacts = Path.Combine(Repo.Root, "tests", "Clusterd.IntegrationTests", "bin", "upgrade-build");

    /// <summary>The second build's clusterd (next to its own clusterd-exec).</summary>
    public string Clusterd { get; } = Path.Combine(s_artifacts, "bin", "Clusterd", "release", "clusterd");

    public async Task InitializeAsync()
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Repo.Root,
        };
        foreach (var argument in (string[])["build", "src/clusterd", "-c", "Release", $"-p:Version={Version}", "--artifacts-path", s_artifacts, "-nologo"])
        {
            psi.ArgumentList.Add(argument);
        }
        using var build = Process.Start(psi)!;
        var output = build.StandardOutput.ReadToEndAsync();
        var errors = build.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(s_buildTimeout);
        await build.WaitForExitAsync(cts.Token);
        if (build.ExitCode != 0 || !File.Exists(Clusterd))
        {
            throw new InvalidOperationException($"building the second clusterd failed ({build.ExitCode}):\n{await output}\n{await errors}");
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;
}
