using System.Diagnostics;
using System.Globalization;
using Clusterd.Platform;

namespace Clusterd.Tests.Platform;

/// <summary>
/// <c>clusterd-exec --init</c> (docs/adr/0007), run for real. Not PID 1 here, so it is a child subreaper: orphans of
/// its subtree come to it as they would to a container's PID 1.
/// </summary>
public sealed class ExecHelperInitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("clusterd-init-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Process StartInit(params string[] command)
    {
        var psi = new ProcessStartInfo(HelperRun.HelperPath) { RedirectStandardInput = true, RedirectStandardError = true };
        foreach (var a in (string[])["--init", "--", .. command])
        {
            psi.ArgumentList.Add(a);
        }
        return Process.Start(psi)!;
    }

    private static async Task<int> ExitCodeAsync(Process init)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await init.WaitForExitAsync(cts.Token);
        return init.ExitCode;
    }

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what);
            await Task.Delay(20);
        }
    }

    /// <summary>The 4th field of /proc/PID/stat (after the parenthesised name, which may hold spaces).</summary>
    private static int ParentOf(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Init_ChildExits_ExitsWithItsStatus()
    {
        using var init = StartInit("/bin/sh", "-c", "exit 7");

        Assert.Equal(7, await ExitCodeAsync(init));
    }

    [Fact]
    public async Task Init_Sigterm_IsForwardedToTheChild_AndTheSignalBecomes128PlusN()
    {
        // cat waits on stdin: only the forwarded SIGTERM ends it (143 = 128 + 15, as a shell reports it).
        var pidFile = Path.Combine(_dir, "child");
        using var init = StartInit("/bin/sh", "-c", $"echo $$ > {pidFile}; exec /bin/cat");
        await UntilAsync(() => File.Exists(pidFile) && File.ReadAllText(pidFile).EndsWith('\n'), "the child's pid");
        var child = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);

        Assert.Equal(0, Interop.kill(init.Id, Interop.SIGTERM));

        Assert.Equal(143, await ExitCodeAsync(init));
        Assert.False(Directory.Exists($"/proc/{child}"));
    }

    [Fact]
    public async Task Init_OrphanOfTheChild_IsReparentedToItAndReaped()
    {
        // The child's child backgrounds a sleep and exits: the sleep is orphaned, and comes to the init.
        var pidFile = Path.Combine(_dir, "orphan");
        using var init = StartInit("/bin/sh", "-c", $"/bin/sh -c '/bin/sleep 1000 & echo $! > {pidFile}'; exec /bin/cat");
        await UntilAsync(() => File.Exists(pidFile) && File.ReadAllText(pidFile).EndsWith('\n'), "the orphan's pid");
        var orphan = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
        await UntilAsync(() => ParentOf(orphan) == init.Id, "the orphan to be reparented to the init");

        Assert.Equal(0, Interop.kill(orphan, Interop.SIGKILL));

        // A zombie keeps its /proc entry until its parent, the init, reaps it.
        await UntilAsync(() => !Directory.Exists($"/proc/{orphan}"), "the init to reap the orphan");
        Assert.False(init.HasExited);
        init.StandardInput.Close(); // cat ends, and the init with it
        Assert.Equal(0, await ExitCodeAsync(init));
    }

    [Fact]
    public async Task Init_WithoutASeparator_RefusesWithUsage()
    {
        using var init = StartInit();
        var stderr = await init.StandardError.ReadToEndAsync();

        Assert.Equal(214, await ExitCodeAsync(init));
        Assert.Contains("usage: clusterd-exec --init -- PROGRAM", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void InitArgv_PutsTheInitFirstAndMarksClusterdAsInAContainer()
    {
        Assert.Equal(
            ["/usr/lib/clusterd/clusterd-exec", "--init", "--", "/usr/bin/clusterd", "--container", "--config", "/c.toml"],
            ContainerInit.InitArgv("/usr/lib/clusterd/clusterd-exec", "/usr/bin/clusterd", null, ["--config", "/c.toml"]));
        Assert.Equal(
            ["/x/clusterd-exec", "--init", "--", "/usr/bin/dotnet", "/x/clusterd.dll", "--container"],
            ContainerInit.InitArgv("/x/clusterd-exec", "/usr/bin/dotnet", "/x/clusterd.dll", []));
    }
}
