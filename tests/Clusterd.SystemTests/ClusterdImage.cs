using System.Globalization;

namespace Clusterd.SystemTests;

/// <summary>
/// The image `make image` builds (packaging/docker/build-image.sh: the .deb on a debootstrapped Debian 12, here the
/// systemd container's base), built once per test run on first use and shared by every container test, and the
/// docker CLI around it. Every container it runs is removed when the run ends, whatever the tests did.
/// </summary>
public sealed class ClusterdImage : IAsyncLifetime
{
    public const string Collection = "clusterd image";

    private readonly Lazy<Task<string>> _tag;
    private readonly List<string> _containers = [];
    private readonly Lock _lock = new();

    public ClusterdImage() => _tag = new Lazy<Task<string>>(BuildAsync);

    /// <summary>The image's tag (clusterd:VERSION-test); a failed build is remembered and fails every later test.</summary>
    public Task<string> TagAsync() => _tag.Value;

    public string Log { get; private set; } = "";

    private async Task<string> BuildAsync()
    {
        var deb = Repo.RequireDeb();
        var version = Path.GetFileName(deb).Split('_')[1];
        // The Debian 12 base the systemd container is made from (debootstrapped once, cached): one base per run, not two.
        var systemdImage = await HostProcess.RunAsync(Repo.Path("tests", "Clusterd.SystemTests", "image", "build-image.sh"), [],
            TimeSpan.FromMinutes(15));
        if (systemdImage.ExitCode != 0)
        {
            throw new InvalidOperationException("building the Debian base failed:\n" + systemdImage);
        }
        var build = await HostProcess.RunAsync(Repo.Path("packaging", "docker", "build-image.sh"), [version, deb, $"clusterd:{version}-test"],
            TimeSpan.FromMinutes(5), environment: new Dictionary<string, string>
            {
                ["CLUSTERD_IMAGE_BASE"] = systemdImage.Stdout.Trim().Split('\n')[^1],
            });
        Log += systemdImage.Stderr + build.Stderr;
        if (build.ExitCode != 0)
        {
            throw new InvalidOperationException("building the clusterd image failed:\n" + build);
        }
        return build.Stdout.Trim().Split('\n')[^1];
    }

    public static Task<CommandResult> DockerAsync(params string[] args) => HostProcess.RunAsync("docker", args, TimeSpan.FromMinutes(3));

    /// <summary>docker ARGS, failing the test with its output unless it exits 0; returns stdout, trimmed.</summary>
    public static async Task<string> MustAsync(params string[] args)
    {
        var result = await DockerAsync(args);
        Assert.True(result.ExitCode == 0, $"`docker {string.Join(' ', args)}`: {result}");
        return result.Stdout.Trim();
    }

    /// <summary>
    /// Starts the image detached with <paramref name="config"/> as /etc/clusterd/clusterd.toml, on no network (every
    /// check runs inside with docker exec), and <paramref name="options"/> before the image. Returns the container id.
    /// </summary>
    public async Task<string> RunAsync(string config, TempDir dir, params string[] options)
    {
        var path = dir.Sub("clusterd.toml");
        await File.WriteAllTextAsync(path, config);
        var id = await MustAsync(["run", "-d", "--network", "none", "-v", $"{path}:/etc/clusterd/clusterd.toml:ro", .. options, await TagAsync()]);
        lock (_lock)
        {
            _containers.Add(id);
        }
        return id;
    }

    public static async Task<CommandResult> ExecAsync(string container, string script) =>
        await DockerAsync("exec", container, "sh", "-c", script);

    /// <summary>clusterd's JSON log lines (docker logs), one per element.</summary>
    public static async Task<string[]> LogLinesAsync(string container) =>
        (await DockerAsync("logs", container)).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Polls <paramref name="condition"/> until it holds, for at most <paramref name="timeout"/> (a deadline, not a sleep).</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what);
            await Task.Delay(200);
        }
    }

    /// <summary>Waits until clusterd in <paramref name="container"/> answers 200 on /readyz (curl inside the container).</summary>
    public static Task UntilReadyAsync(string container, int metricsPort) => UntilAsync(
        async () => (await ExecAsync(container, string.Create(CultureInfo.InvariantCulture,
            $"curl -fsS http://127.0.0.1:{metricsPort}/readyz"))).ExitCode == 0,
        $"/readyz in {container}");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        string[] containers;
        lock (_lock)
        {
            containers = [.. _containers];
        }
        if (containers.Length > 0)
        {
            await DockerAsync(["rm", "-f", .. containers]);
        }
    }
}

/// <summary>Every test class that runs the image shares one build, and they run one after another (2 cores).</summary>
[CollectionDefinition(ClusterdImage.Collection)]
public sealed class SharedClusterdImage : ICollectionFixture<ClusterdImage>;
