using System.Diagnostics;

namespace Clusterd.IntegrationTests.Readiness;

/// <summary>
/// sd_notify clients that are not clusterd's own TestWorker: tiny Python programs, as a Ruby or Python service's
/// notify code would be, in a directory every user may read (workers of other users run them).
/// </summary>
internal sealed class NotifyClients : IDisposable
{
    public const string Python = "/usr/bin/python3";

    private const string PathOnlyWorkerScript = """
        # Like older sd_notify libraries: NOTIFY_SOCKET must be a filesystem path; '@' (abstract) names are refused.
        import os, signal, socket, sys
        path = os.environ.get("NOTIFY_SOCKET", "")
        if not path.startswith("/"):
            sys.exit(f"notify: only filesystem paths are supported, got {path!r}")
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"READY=1", path)
        print("sent READY=1", flush=True)
        signal.pause()
        """;

    private const string SendScript = """
        # send.py PATH MESSAGE: one datagram; says "sent" or the errno it got.
        import socket, sys
        try:
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(sys.argv[2].encode(), sys.argv[1])
            print("sent", flush=True)
        except OSError as e:
            print(f"errno={e.errno}", flush=True)
        """;

    private const string SwarmScript = """
        # swarm.py N: N forked children (in the worker's session) flood NOTIFY_SOCKET with WATCHDOG=1; then the
        # worker itself sends READY=1 once and waits. A child ends when the socket goes away.
        import os, signal, socket, sys
        path = os.environ["NOTIFY_SOCKET"]
        for _ in range(int(sys.argv[1])):
            if os.fork() == 0:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                try:
                    s.connect(path)
                    while True:
                        s.send(b"WATCHDOG=1")
                except OSError:
                    os._exit(0)
        print("swarm started", flush=True)
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"READY=1", path)
        signal.pause()
        """;

    public NotifyClients()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("clusterd-notify-clients-").FullName;
        File.SetUnixFileMode(Directory, (UnixFileMode)0x1ED); // 0755, whatever the umask: other users run these
        foreach (var (name, text) in new[] { ("path_only_worker.py", PathOnlyWorkerScript), ("send.py", SendScript), ("swarm.py", SwarmScript) })
        {
            var path = System.IO.Path.Combine(Directory, name);
            File.WriteAllText(path, text);
            File.SetUnixFileMode(path, (UnixFileMode)0x1A4); // 0644
        }
    }

    public string Directory { get; }

    public string PathOnlyWorker => System.IO.Path.Combine(Directory, "path_only_worker.py");

    public string Send => System.IO.Path.Combine(Directory, "send.py");

    public string Swarm => System.IO.Path.Combine(Directory, "swarm.py");

    /// <summary>Sends one datagram from a new process, as <paramref name="asUid"/> if given (setpriv, util-linux); returns what send.py printed.</summary>
    public Task<string> SendAsync(string socket, string message, int? asUid = null) =>
        RunAsync([.. asUid is { } uid ? new[] { "setpriv", $"--reuid={uid}", $"--regid={uid}", "--clear-groups", "--" } : [], Python, Send, socket, message]);

    /// <summary>Runs a program to its end; returns its stdout and stderr, trimmed.</summary>
    public static async Task<string> RunAsync(params string[] argv)
    {
        var psi = new ProcessStartInfo(argv[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in argv.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await p.WaitForExitAsync(cts.Token);
        return (await stdout).Trim() + (await stderr).Trim();
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
