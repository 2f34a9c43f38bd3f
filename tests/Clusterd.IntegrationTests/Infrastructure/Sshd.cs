using System.Diagnostics;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Infrastructure;

/// <summary>
/// Debian's OpenSSH server (package openssh-server), started by the test as root on 127.0.0.1 and a free port, with its
/// own sshd_config, host key and one client key that every user may log in with, all in a temp directory. The client
/// side is an ssh_config (<see cref="ClientConfig"/>) that clusterctl is given through CLUSTERD_SSH_CONFIG: nothing in
/// /etc/ssh or anyone's ~/.ssh is read or written.
/// </summary>
internal sealed class Sshd : IAsyncDisposable
{
    public const string Program = "/usr/sbin/sshd";

    private readonly Process _process;
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ITestOutputHelper _output;

    private Sshd(string directory, int port, Process process, ITestOutputHelper output)
    {
        Directory = directory;
        Port = port;
        _process = process;
        _output = output;
        _process.ErrorDataReceived += (_, e) => OnLog(e.Data);
        _process.BeginErrorReadLine();
    }

    public string Directory { get; }

    public int Port { get; }

    /// <summary>The ssh_config for <c>ssh -F</c>: the client key, and a known_hosts that holds exactly this server's key.</summary>
    public string ClientConfig => Path.Combine(Directory, "ssh_config");

    /// <summary>Whether sshd can be started here: installed, and run as root (to log in as other users).</summary>
    public static bool Available => File.Exists(Program) && File.Exists("/usr/bin/ssh-keygen") && Native.IsRoot;

    public static async Task<Sshd> StartAsync(ITestOutputHelper output)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("clusterd-sshd-").FullName;
        var port = Ports.Free();
        await KeygenAsync(Path.Combine(directory, "host_key"));
        await KeygenAsync(Path.Combine(directory, "client_key"));
        File.Copy(Path.Combine(directory, "client_key.pub"), Path.Combine(directory, "authorized_keys"));
        // sshd reads authorized_keys as the user logging in; the private keys stay 0600 (ssh-keygen's mode).
        File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        File.SetUnixFileMode(Path.Combine(directory, "authorized_keys"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var hostKey = (await File.ReadAllTextAsync(Path.Combine(directory, "host_key.pub"))).Trim();
        await File.WriteAllTextAsync(Path.Combine(directory, "known_hosts"), $"[127.0.0.1]:{port} {hostKey}\n");
        // StrictModes off: the keys live under /tmp, whose mode sshd would otherwise refuse. UsePAM off: no system login policy.
        await File.WriteAllTextAsync(Path.Combine(directory, "sshd_config"), $"""
            Port {port}
            ListenAddress 127.0.0.1
            HostKey {directory}/host_key
            PidFile none
            AuthorizedKeysFile {directory}/authorized_keys
            AuthenticationMethods publickey
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no
            PermitRootLogin prohibit-password
            LogLevel VERBOSE

            """);
        await File.WriteAllTextAsync(Path.Combine(directory, "ssh_config"), $"""
            Host *
              IdentityFile {directory}/client_key
              IdentitiesOnly yes
              UserKnownHostsFile {directory}/known_hosts
              GlobalKnownHostsFile /dev/null
              StrictHostKeyChecking yes
              LogLevel ERROR

            """);
        // sshd's privilege-separated child chroots here; the package's service makes it at boot, a bare install may not have it.
        System.IO.Directory.CreateDirectory("/run/sshd");
        var start = new ProcessStartInfo(Program) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-D", "-e", "-f", Path.Combine(directory, "sshd_config") })
        {
            start.ArgumentList.Add(argument);
        }
        var sshd = new Sshd(directory, port, Process.Start(start)!, output);
        using var deadline = new CancellationTokenSource(ClusterdProcess.DefaultTimeout);
        await sshd._listening.Task.WaitAsync(deadline.Token);
        return sshd;
    }

    /// <summary>An ssh:// address of this server for <paramref name="user"/> (null: the current user), running the built clusterctl.</summary>
    public string Url(string? user) => $"ssh://{(user is null ? "" : user + "@")}127.0.0.1:{Port}?clusterctl={Repo.Clusterctl}";

    private void OnLog(string? line)
    {
        if (line is null)
        {
            _listening.TrySetException(new InvalidOperationException("sshd exited before it listened"));
            return;
        }
        _output.WriteLine("sshd: " + line);
        if (line.StartsWith("Server listening on 127.0.0.1 port", StringComparison.Ordinal))
        {
            _listening.TrySetResult();
        }
    }

    /// <summary>
    /// A system user with a shell (sshd runs the remote command through it) and primary group nogroup, made once and
    /// left in place. Its password is '*', not '!': without PAM, sshd takes '!' for a locked account and refuses even a key.
    /// </summary>
    public static async Task<string> EnsureUserAsync(string name)
    {
        if (await RunAsync("/usr/bin/id", "-u", name) != 0)
        {
            Assert.Equal(0, await RunAsync("/usr/sbin/useradd", "--system", "--gid", "nogroup", "--no-create-home", "--home-dir", "/",
                "--shell", "/bin/sh", "--password", "*", name));
        }
        return name;
    }

    private static async Task KeygenAsync(string path) =>
        Assert.Equal(0, await RunAsync("/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "clusterd-test", "-f", path));

    private static async Task<int> RunAsync(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in args)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(ClusterdProcess.DefaultTimeout);
        await process.WaitForExitAsync(deadline.Token);
        await output;
        return process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

/// <summary>A fact that needs <see cref="Sshd"/>: skipped on a laptop without it, run (and failing on what is missing) when CI=true.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class RequiresSshdAttribute : FactAttribute
{
    public RequiresSshdAttribute()
    {
        if (!Sshd.Available && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = $"needs {Sshd.Program} (Debian: openssh-server, openssh-client) and root (not skipped when CI=true)";
        }
    }
}
