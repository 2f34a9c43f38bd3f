namespace Clusterd.SystemTests;

/// <summary>What `make deb` produced, as dpkg-deb sees it.</summary>
public sealed class DebTests
{
    private const ushort ElfTypeExecutable = 2;    // ET_EXEC: linked at a fixed address
    private const ushort ElfTypeSharedObject = 3;  // ET_DYN: what a PIE is
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    [Requires("dpkg-deb", RequiresAttribute.DebFile)]
    public async Task Deb_Contents_HaveBinariesUnitsConfigWorkerAndManPages()
    {
        var listing = await DpkgDeb("-c", Repo.RequireDeb());

        foreach (var path in new[]
        {
            "./usr/bin/clusterd", "./usr/bin/clusterctl", "./usr/lib/clusterd/hello/hello",
            "./usr/lib/clusterd/hello/appsettings.json", "./usr/lib/systemd/system/clusterd.service",
            "./usr/lib/systemd/system/clusterd.socket", "./usr/lib/sysusers.d/clusterd.conf",
            "./usr/lib/tmpfiles.d/clusterd.conf", "./etc/clusterd/clusterd.toml", "./usr/share/man/man8/clusterd.8.gz",
            "./usr/share/man/man1/clusterctl.1.gz", "./usr/share/doc/clusterd/copyright",
        })
        {
            Assert.Contains(listing.Split('\n'), line => line.EndsWith(" " + path, StringComparison.Ordinal));
        }
        // Everything owned by root, and the binaries executable.
        Assert.DoesNotContain(listing.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => !line.Contains(" root/root ", StringComparison.Ordinal));
        Assert.Contains(listing.Split('\n'), line => line.StartsWith("-rwxr-xr-x", StringComparison.Ordinal) && line.EndsWith("./usr/bin/clusterd", StringComparison.Ordinal));
    }

    [Requires("dpkg-deb", RequiresAttribute.DebFile)]
    public async Task Deb_Control_NamesPackageConffileAndMaintainerScripts()
    {
        var deb = Repo.RequireDeb();
        var info = await DpkgDeb("-I", deb);

        Assert.Contains("Package: clusterd", info, StringComparison.Ordinal);
        Assert.Contains("Architecture: amd64", info, StringComparison.Ordinal);
        Assert.Contains("Depends: libc6", info, StringComparison.Ordinal);
        foreach (var member in new[] { "conffiles", "postinst", "prerm", "postrm", "md5sums" })
        {
            Assert.Contains(" " + member, info, StringComparison.Ordinal);
        }
        Assert.Equal("/etc/clusterd/clusterd.toml", (await DpkgDeb("-I", deb, "conffiles")).Trim());
        var postinst = await DpkgDeb("-I", deb, "postinst");
        Assert.Contains("systemd-sysusers", postinst, StringComparison.Ordinal);
        Assert.Contains("daemon-reload", postinst, StringComparison.Ordinal);
        // Installing never enables or starts the service (the shipped config is a demo).
        Assert.DoesNotContain(postinst.Split('\n'), line => !line.TrimStart().StartsWith('#')
            && (line.Contains("systemctl enable", StringComparison.Ordinal) || line.Contains(" start ", StringComparison.Ordinal)));
        Assert.Contains("systemctl stop", await DpkgDeb("-I", deb, "prerm"), StringComparison.Ordinal);
        Assert.Contains("disable", await DpkgDeb("-I", deb, "postrm"), StringComparison.Ordinal);
    }

    /// <summary>The packaged config is valid as shipped (checked with the packaged binary itself).</summary>
    [Requires("dpkg-deb", RequiresAttribute.DebFile)]
    public async Task Deb_PackagedConfig_PassesCheckConfig()
    {
        using var root = new TempDir();
        await DpkgDeb("-x", Repo.RequireDeb(), root.Path);

        var check = await HostProcess.RunAsync(root.Sub("usr", "bin", "clusterd"),
            ["--check-config", "--config", root.Sub("etc", "clusterd", "clusterd.toml")], s_timeout);

        Assert.True(check.ExitCode == 0, check.ToString());
        Assert.Contains("configuration OK", check.Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// clusterctl ships as a fixed-address executable and clusterd as a PIE (docs/adr/0009): the client's start costs
    /// fewer page faults that way, and the daemon, which parses what others send it, keeps ASLR of its own image.
    /// </summary>
    [Requires("dpkg-deb", RequiresAttribute.DebFile)]
    public async Task Deb_Binaries_ClientIsFixedAddressDaemonIsPie()
    {
        using var root = new TempDir();
        await DpkgDeb("-x", Repo.RequireDeb(), root.Path);

        Assert.Equal(ElfTypeExecutable, ElfType(root.Sub("usr", "bin", "clusterctl")));
        Assert.Equal(ElfTypeSharedObject, ElfType(root.Sub("usr", "bin", "clusterd")));
    }

    /// <summary>e_type of a little-endian ELF file: the 16 bits after the 16-byte e_ident.</summary>
    private static ushort ElfType(string path)
    {
        Span<byte> header = stackalloc byte[18];
        using var file = File.OpenRead(path);
        file.ReadExactly(header);
        Assert.True(header[..4].SequenceEqual("\u007fELF"u8), $"{path} is not an ELF file");
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(header[16..]);
    }

    private static async Task<string> DpkgDeb(params string[] args)
    {
        var result = await HostProcess.RunAsync("dpkg-deb", args, s_timeout);
        Assert.True(result.ExitCode == 0, $"dpkg-deb {string.Join(' ', args)}: {result}");
        return result.Stdout;
    }
}
