namespace Clusterd.SystemTests;

/// <summary>The unit files as the .deb installs them, checked by systemd's own parser.</summary>
public sealed class UnitFileTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// `systemd-analyze verify` on the installed units, in a root made of the .deb's files (so ExecStart's binary and
    /// the man page of Documentation= exist) plus the host's targets and /bin/kill. It exits 0 on many
    /// errors (e.g. a misspelt Type=) and only says so on stderr, so any stderr output fails the test.
    /// </summary>
    [Requires("systemd-analyze", "dpkg-deb", "man", RequiresAttribute.DebFile)]
    public async Task ShippedUnits_SystemdAnalyzeVerify_PrintsNothingOnStderr()
    {
        using var root = new TempDir();
        await Run("dpkg-deb", "-x", Repo.RequireDeb(), root.Path);
        PrepareVerifyRoot(root);

        var verify = await HostProcess.RunAsync("systemd-analyze",
            ["verify", "--root=" + root.Path, "clusterd.service", "clusterd.socket"], s_timeout,
            environment: new Dictionary<string, string> { ["MANPATH"] = root.Sub("usr", "share", "man") });

        Assert.True(verify.ExitCode == 0 && verify.Stderr.Length == 0, "systemd-analyze verify complained:\n" + verify);
    }

    /// <summary>The check above catches a broken unit: a misspelt Type= is reported (on stderr only).</summary>
    [Requires("systemd-analyze", "dpkg-deb", "man", RequiresAttribute.DebFile)]
    public async Task SystemdAnalyzeVerify_BrokenUnit_IsCaughtByStderr()
    {
        using var root = new TempDir();
        await Run("dpkg-deb", "-x", Repo.RequireDeb(), root.Path);
        PrepareVerifyRoot(root);
        var unit = root.Sub("usr", "lib", "systemd", "system", "clusterd.service");
        File.WriteAllText(unit, File.ReadAllText(unit).Replace("Type=notify\n", "Type=notifyy\n", StringComparison.Ordinal));

        var verify = await HostProcess.RunAsync("systemd-analyze", ["verify", "--root=" + root.Path, "clusterd.service"], s_timeout,
            environment: new Dictionary<string, string> { ["MANPATH"] = root.Sub("usr", "share", "man") });

        Assert.Contains("notifyy", verify.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// `make install PREFIX=/opt/cd DESTDIR=...` puts everything under the prefix, rewrites the units' and the config's
    /// paths to it, and never overwrites an existing config (the new one goes to the doc dir as an example).
    /// </summary>
    [Requires("make", RequiresAttribute.DebFile)]
    public async Task MakeInstall_PrefixAndDestdir_RewritesPathsAndKeepsAnExistingConfig()
    {
        using var dest = new TempDir();
        string[] args = ["--no-print-directory", "install", "PREFIX=/opt/cd", "DESTDIR=" + dest.Path];

        var first = await HostProcess.RunAsync("make", args, TimeSpan.FromMinutes(5));
        Assert.True(first.ExitCode == 0, first.ToString());

        foreach (var file in new[]
        {
            "opt/cd/bin/clusterd", "opt/cd/bin/clusterctl", "opt/cd/lib/clusterd/hello/hello",
            "opt/cd/lib/clusterd/hello/appsettings.json", "opt/cd/lib/systemd/system/clusterd.service",
            "opt/cd/lib/systemd/system/clusterd.socket", "opt/cd/lib/sysusers.d/clusterd.conf",
            "opt/cd/lib/tmpfiles.d/clusterd.conf", "opt/cd/share/man/man8/clusterd.8.gz",
            "opt/cd/share/man/man1/clusterctl.1.gz", "etc/clusterd/clusterd.toml",
        })
        {
            Assert.True(File.Exists(dest.Sub(file.Split('/'))), $"make install did not install /{file}");
        }
        var service = File.ReadAllText(dest.Sub("opt", "cd", "lib", "systemd", "system", "clusterd.service"));
        Assert.Contains("ExecStart=/opt/cd/bin/clusterd --config /etc/clusterd/clusterd.toml", service, StringComparison.Ordinal);
        Assert.DoesNotContain("/usr/bin/clusterd", service, StringComparison.Ordinal);
        var config = dest.Sub("etc", "clusterd", "clusterd.toml");
        Assert.Contains("command = [\"/opt/cd/lib/clusterd/hello/hello\"]", File.ReadAllText(config), StringComparison.Ordinal);

        File.WriteAllText(config, "# mine\n");
        var second = await HostProcess.RunAsync("make", args, TimeSpan.FromMinutes(5));
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal("# mine\n", File.ReadAllText(config));
        Assert.True(File.Exists(dest.Sub("opt", "cd", "share", "doc", "clusterd", "clusterd.toml.example")));
    }

    private static void PrepareVerifyRoot(TempDir root)
    {
        // The units need sysinit.target & co. and ExecReload's /bin/kill inside the root.
        var units = root.Sub("usr", "lib", "systemd", "system");
        foreach (var target in Directory.GetFiles("/usr/lib/systemd/system", "*.target"))
        {
            File.Copy(target, System.IO.Path.Combine(units, System.IO.Path.GetFileName(target)), overwrite: true);
        }
        Directory.CreateDirectory(root.Sub("bin"));
        foreach (var tool in new[] { "kill" })
        {
            File.Copy("/bin/" + tool, root.Sub("bin", tool), overwrite: true);
        }
    }

    private static async Task Run(string program, params string[] args)
    {
        var result = await HostProcess.RunAsync(program, args, s_timeout);
        Assert.True(result.ExitCode == 0, $"{program} {string.Join(' ', args)}: {result}");
    }
}
