using System.Diagnostics;

namespace Clusterd.IntegrationTests.Infrastructure;

/// <summary>Runs the built clusterctl binary, optionally as another user through setpriv (util-linux).</summary>
internal static class Clusterctl
{
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string socket, string? asUser, params string[] args) =>
        RunAsync(socket, asUser, environment: null, args);

    /// <param name="environment">Extra variables for clusterctl (CLUSTERD_SSH_CONFIG, CLUSTERD_HOST).</param>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string socket, string? asUser,
        IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var argv = new List<string>();
        if (asUser is not null)
        {
            // Drop to the user with only its own groups, as a shell of that user would have them.
            argv.AddRange(["setpriv", $"--reuid={asUser}", $"--regid={(asUser == "nobody" ? "nogroup" : asUser)}", "--init-groups", "--"]);
        }
        argv.AddRange([Repo.Clusterctl, "--socket", socket]);
        argv.AddRange(args);
        var psi = new ProcessStartInfo(argv[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in argv.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["HOME"] = "/tmp";
        psi.Environment["NO_COLOR"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[key] = value;
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout, await stderr);
    }
}
