using System.Diagnostics;
using System.Globalization;

namespace Clusterd.SystemTests;

/// <summary>Paths in the repository, and the artifacts `make deb` leaves in dist/.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    /// <summary>dist/clusterd_VERSION_amd64.deb for the version in Directory.Build.props, or null if not built.</summary>
    public static string? Deb
    {
        get
        {
            var props = File.ReadAllText(Path("Directory.Build.props"));
            var start = props.IndexOf("<Version>", StringComparison.Ordinal) + "<Version>".Length;
            var version = props[start..props.IndexOf("</Version>", StringComparison.Ordinal)];
            var deb = Path("dist", $"clusterd_{version}_amd64.deb");
            return File.Exists(deb) ? deb : null;
        }
    }

    public static string RequireDeb() =>
        Deb ?? throw new InvalidOperationException("dist/clusterd_*_amd64.deb is missing: run `make deb` (make test does)");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "clusterd.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("clusterd.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>Output of a finished command.</summary>
public sealed record CommandResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}");
}

/// <summary>Runs host commands without a shell and collects their output.</summary>
public static class HostProcess
{
    public static async Task<CommandResult> RunAsync(string program, IEnumerable<string> args, TimeSpan timeout,
        string? workingDirectory = null, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Repo.Root,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish within {timeout}");
        }
        return new CommandResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>True if PROGRAM is an executable on PATH.</summary>
    public static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(System.IO.Path.Combine(dir, program)));
}
