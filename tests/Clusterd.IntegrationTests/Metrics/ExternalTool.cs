using System.Diagnostics;
using Clusterd.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Metrics;

/// <summary>
/// promtool, prometheus and npm: found on PATH. A laptop without them skips the test (with a message); CI, where
/// .ci/run installs them, fails instead, so a missing package can never turn a check green.
/// </summary>
internal static class ExternalTool
{
    public static string? Find(string name, ITestOutputHelper output)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path))
            {
                return path;
            }
        }
        if (Environment.GetEnvironmentVariable("CI") == "true")
        {
            Assert.Fail($"{name} is not installed, and CI=true: install it (.ci/run does, with apt-get)");
        }
        output.WriteLine($"SKIPPED: {name} is not on PATH (it would fail with CI=true)");
        return null;
    }

    /// <summary>Runs a tool to completion with a deadline; returns its exit code and what it printed.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string path, string? stdin, string? workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Repo.Root,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await p.StandardInput.WriteAsync(stdin);
        }
        p.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{path} {string.Join(' ', args)} did not finish in 3 minutes");
        }
        return (p.ExitCode, await stdout, await stderr);
    }
}
