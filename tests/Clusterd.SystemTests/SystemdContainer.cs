using System.Globalization;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;
using DotNet.Testcontainers.Images;

namespace Clusterd.SystemTests;

/// <summary>
/// A Debian 12 container booting real systemd as PID 1, with the .deb installed (not started). Built lazily on first
/// use, so skipped tests cost nothing. The image comes from image/build-image.sh (debootstrap, cached by the script's
/// hash). Docker refuses --privileged on CI (no CAP_SYS_RESOURCE), so: every capability but that one, no seccomp or
/// AppArmor profile, tmpfs /run, the host's cgroup tree. Network "none": the container has only its own loopback, so
/// every request stays on 127.0.0.1 and nothing collides with ports in use on the host.
/// Needs DOCKER_API_VERSION=1.41, TESTCONTAINERS_RYUK_DISABLED=true, TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 (.ci/run).
/// </summary>
public sealed class SystemdContainer : IAsyncLifetime
{
    public const string PristineConfig = "/root/clusterd.toml.orig";
    private readonly Lazy<Task> _started;
    private IContainer? _container;

    public SystemdContainer() => _started = new Lazy<Task>(StartAsync);

    public IContainer Container => _container ?? throw new InvalidOperationException("call EnsureStartedAsync first");

    public string Log { get; private set; } = "";

    /// <summary>Boots the container and installs the .deb, once; a failure is remembered and fails every later test too.</summary>
    public Task EnsureStartedAsync() => _started.Value;

    private async Task StartAsync()
    {
        var deb = Repo.RequireDeb();
        var image = await HostProcess.RunAsync(Repo.Path("tests", "Clusterd.SystemTests", "image", "build-image.sh"), [],
            TimeSpan.FromMinutes(15));
        if (image.ExitCode != 0)
        {
            throw new InvalidOperationException("building the systemd image failed:\n" + image);
        }
        var tag = image.Stdout.Trim().Split('\n')[^1];
        Log += image.Stderr;

        _container = new ContainerBuilder(tag)
            .WithImagePullPolicy(PullPolicy.Never)
            .WithCreateParameterModifier(p =>
            {
                p.StopSignal = "SIGRTMIN+3"; // systemd's "halt"; SIGTERM would make it re-execute
                p.HostConfig ??= new Docker.DotNet.Models.HostConfig();
                p.HostConfig.NetworkMode = "none";
                p.HostConfig.CapAdd = ["ALL"];
                p.HostConfig.CapDrop = ["SYS_RESOURCE"];
                p.HostConfig.SecurityOpt = ["seccomp=unconfined", "apparmor=unconfined"];
                p.HostConfig.Tmpfs = new Dictionary<string, string> { ["/run"] = "", ["/run/lock"] = "" };
                p.HostConfig.Binds = ["/sys/fs/cgroup:/sys/fs/cgroup:rw"];
            })
            .Build();
        await _container.StartAsync();

        var boot = await ExecAsync("timeout 60 systemctl is-system-running --wait; systemctl --failed --no-legend");
        Log += "boot: " + boot.Stdout;
        // /root, not /tmp: systemd mounts a fresh /tmp during boot.
        await _container.CopyAsync(await File.ReadAllBytesAsync(deb), "/root/clusterd.deb");
        await MustAsync("dpkg -i /root/clusterd.deb");
        await MustAsync($"cp /etc/clusterd/clusterd.toml {PristineConfig}");
    }

    public async Task<CommandResult> ExecAsync(string script, CancellationToken cancellationToken = default)
    {
        var result = await Container.ExecAsync(["sh", "-c", script], cancellationToken);
        return new CommandResult((int)(result.ExitCode ?? -1), result.Stdout, result.Stderr);
    }

    /// <summary>Runs SCRIPT in the container and fails the test, with its output and clusterd's journal, unless it exits 0.</summary>
    public async Task<string> MustAsync(string script)
    {
        var result = await ExecAsync(script);
        if (result.ExitCode != 0)
        {
            var journal = await ExecAsync("systemctl status clusterd --no-pager -l; journalctl -u clusterd --no-pager -n 60");
            Assert.Fail(string.Create(CultureInfo.InvariantCulture, $"`{script}` in the container: {result}\n--- clusterd\n{journal.Stdout}"));
        }
        return result.Stdout;
    }

    /// <summary>Back to "installed, stopped": no drop-ins, the packaged config, no socket unit, no failed state.</summary>
    public Task ResetAsync() => MustAsync(
        "systemctl stop clusterd.service clusterd.socket; systemctl disable -q clusterd.service clusterd.socket; " +
        "rm -rf /etc/systemd/system/clusterd.service.d /etc/systemd/system/clusterd.socket; " +
        $"cp {PristineConfig} /etc/clusterd/clusterd.toml; systemctl daemon-reload; systemctl reset-failed; true");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
    }
}
