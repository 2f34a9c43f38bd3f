using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Clusterd.Platform;

/// <summary>
/// The <c>clusterd exec-worker</c> mode: the process clusterd spawns (stdin on /dev/null, stdout and stderr on
/// clusterd's pipes: docs/adr/0003), which arranges what a spawn cannot and then becomes the worker with execve (same pid).
/// It drops privileges, leads a new session, moves the inherited listeners to fds 3.., marks every other
/// descriptor close-on-exec, sets LISTEN_PID/SYSTEMD_EXEC_PID to its own pid, and execs. See docs/adr/0001.
/// If anything fails before execve it writes one line to the status fd (and stderr) and exits with a
/// systemd-style code; a status fd that closes with nothing written means execve succeeded.
/// </summary>
internal static class ExecShim
{
    public const string Verb = "exec-worker";

    // systemd's EXIT_CHDIR/EXIT_EXEC/EXIT_GROUP/EXIT_USER, so operators recognise them.
    public const int ExitChdir = 200;
    public const int ExitExec = 203;
    public const int ExitGroup = 216;
    public const int ExitUser = 217;
    public const int ExitSetup = 214;

    private const int FirstListenFd = 3;

    /// <summary>Arguments the parent passes; <see cref="Format"/> and <see cref="Parse"/> are inverses.</summary>
    internal sealed record Options(
        int ParentPid,
        int StatusFd,
        IReadOnlyList<int> ListenFds,
        uint? Uid,
        uint? Gid,
        string? User,
        string? Cwd,
        IReadOnlyList<string> Argv);

    public static IEnumerable<string> Format(Options o)
    {
        yield return Verb;
        yield return "--parent";
        yield return o.ParentPid.ToString(CultureInfo.InvariantCulture);
        yield return "--status-fd";
        yield return o.StatusFd.ToString(CultureInfo.InvariantCulture);
        yield return "--fds";
        yield return string.Join(',', o.ListenFds.Select(fd => fd.ToString(CultureInfo.InvariantCulture)));
        if (o.Uid is uint uid)
        {
            yield return "--uid";
            yield return uid.ToString(CultureInfo.InvariantCulture);
        }
        if (o.Gid is uint gid)
        {
            yield return "--gid";
            yield return gid.ToString(CultureInfo.InvariantCulture);
        }
        if (o.User is not null)
        {
            yield return "--user";
            yield return o.User;
        }
        if (o.Cwd is not null)
        {
            yield return "--cwd";
            yield return o.Cwd;
        }
        yield return "--";
        foreach (var a in o.Argv)
        {
            yield return a;
        }
    }

    public static Options Parse(IReadOnlyList<string> args)
    {
        int parent = 0, status = -1;
        var fds = new List<int>();
        uint? uid = null, gid = null;
        string? user = null, cwd = null;
        var i = args.Count > 0 && args[0] == Verb ? 1 : 0;
        for (; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--parent": parent = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--status-fd": status = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--fds":
                    fds.AddRange(args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries)
                        .Select(s => int.Parse(s, CultureInfo.InvariantCulture)));
                    break;
                case "--uid": uid = uint.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--gid": gid = uint.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--user": user = args[++i]; break;
                case "--cwd": cwd = args[++i]; break;
                case "--": return new Options(parent, status, fds, uid, gid, user, cwd, args.Skip(i + 1).ToArray());
                default: throw new FormatException($"exec-worker: unknown argument '{args[i]}'");
            }
        }
        throw new FormatException("exec-worker: missing '--' before the worker's argv");
    }

    public static int Run(string[] args)
    {
        Options o;
        try
        {
            o = Parse(args);
        }
        catch (Exception e) when (e is FormatException or ArgumentOutOfRangeException or OverflowException)
        {
            Console.Error.WriteLine($"clusterd {Verb}: {e.Message}. This mode is internal to clusterd.");
            return ExitSetup;
        }
        if (o.Argv.Count == 0)
        {
            return Fail(o.StatusFd, ExitExec, "empty command");
        }

        if (o.Gid is uint gid)
        {
            var groups = o.User is not null ? Interop.initgroups(o.User, gid) : Interop.setgroups(0, []);
            if (groups == -1 || Interop.setgid(gid) == -1)
            {
                return Fail(o.StatusFd, ExitGroup, $"cannot switch to group {gid}: {LastError()}");
            }
        }
        if (o.Uid is uint uid && Interop.setuid(uid) == -1)
        {
            return Fail(o.StatusFd, ExitUser, $"cannot switch to user {o.User ?? uid.ToString(CultureInfo.InvariantCulture)}: {LastError()}");
        }

        if (OperatingSystem.IsLinux())
        {
            // After the uid change: changing credentials clears the parent-death signal. The signal fires when
            // the *thread* that forked us exits, which is why clusterd spawns from one thread that lives forever.
            Interop.prctl(LinuxConstants.PR_SET_PDEATHSIG, Interop.SIGKILL, 0, 0, 0);
            if (Interop.getppid() != o.ParentPid)
            {
                return ExitSetup; // clusterd died before we armed the signal: become nobody's orphan.
            }
        }

        // Lead a new session (and so a process group): stop signals go to the group, and a Ctrl-C meant for
        // clusterd's terminal does not reach workers before clusterd decides how to stop them.
        Interop.setsid();

        var statusFd = o.StatusFd;
        try
        {
            statusFd = MoveListenersIntoPlace(o.ListenFds, o.StatusFd);
        }
        catch (ErrnoException e)
        {
            return Fail(statusFd, ExitSetup, e.Message);
        }

        if (o.Cwd is not null && Interop.chdir(o.Cwd) == -1)
        {
            return Fail(statusFd, ExitChdir, $"cannot change directory to '{o.Cwd}': {LastError()}");
        }

        var path = ResolveExecutable(o.Argv[0], Environment.GetEnvironmentVariable("PATH"));
        if (path is null)
        {
            return Fail(statusFd, ExitExec, $"'{o.Argv[0]}' not found in PATH");
        }

        var env = BuildEnvironment(Interop.getpid());
        ResetSignals();
        var errno = Exec(path, o.Argv, env);
        return Fail(statusFd, ExitExec, $"cannot execute '{path}': {Marshal.GetPInvokeErrorMessage(errno)}");
    }

    /// <summary>
    /// Puts the listeners at 3..3+n-1 and returns where the status fd ended up. Every descriptor from 3+n up
    /// (the status fd, the runtime's own) is made close-on-exec, so nothing but the listeners reaches the worker.
    /// </summary>
    private static int MoveListenersIntoPlace(IReadOnlyList<int> listenFds, int statusFd)
    {
        var n = listenFds.Count;
        // F_DUPFD never clobbers an open descriptor, so copying everything above 3+n first makes the dup2s
        // below safe however the inherited numbers overlap the targets.
        var floor = FirstListenFd + n;
        var copies = new int[n];
        for (var i = 0; i < n; i++)
        {
            copies[i] = Interop.fcntl(listenFds[i], Constants.FDupFdCloexec, floor);
            ErrnoException.ThrowIfFailed(copies[i], "fcntl(F_DUPFD_CLOEXEC)");
        }
        var status = statusFd >= 0 ? Interop.fcntl(statusFd, Constants.FDupFdCloexec, floor) : -1;
        for (var i = 0; i < n; i++)
        {
            // dup2 leaves the new descriptor without FD_CLOEXEC: exactly the ones the worker inherits.
            ErrnoException.ThrowIfFailed(Interop.dup2(copies[i], FirstListenFd + i), "dup2");
        }

        MarkCloseOnExecFrom(floor);
        return status;
    }

    private static void MarkCloseOnExecFrom(int floor)
    {
        if (OperatingSystem.IsLinux() && Interop.close_range((uint)floor, uint.MaxValue, LinuxConstants.CLOSE_RANGE_CLOEXEC) == 0)
        {
            return;
        }
        // Kernels before 5.11 and macOS: walk the open descriptors instead.
        var dir = OperatingSystem.IsLinux() ? "/proc/self/fd" : "/dev/fd";
        foreach (var entry in Directory.GetFiles(dir))
        {
            if (int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var fd) && fd >= floor)
            {
                var flags = Interop.fcntl(fd, Interop.F_GETFD, 0);
                if (flags >= 0)
                {
                    Interop.fcntl(fd, Interop.F_SETFD, flags | Interop.FD_CLOEXEC);
                }
            }
        }
    }

    internal static string? ResolveExecutable(string command, string? searchPath)
    {
        if (command.Contains('/', StringComparison.Ordinal))
        {
            return command;
        }
        foreach (var dir in (searchPath ?? "/usr/local/bin:/usr/bin:/bin").Split(':'))
        {
            var candidate = Path.Combine(dir.Length == 0 ? "." : dir, command);
            if (Interop.access(candidate, Interop.X_OK) == 0 && !Directory.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    private static List<string> BuildEnvironment(int pid)
    {
        var ownPid = pid.ToString(CultureInfo.InvariantCulture);
        var env = new List<string>();
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            var key = (string)e.Key;
            if (key is "LISTEN_PID" or "SYSTEMD_EXEC_PID" or "WATCHDOG_PID")
            {
                continue;
            }
            env.Add($"{key}={e.Value}");
        }
        // systemd's contract: these name the process that is meant to use the fds and the notify socket.
        env.Add($"LISTEN_PID={ownPid}");
        env.Add($"SYSTEMD_EXEC_PID={ownPid}");
        if (Environment.GetEnvironmentVariable("WATCHDOG_USEC") is not null)
        {
            env.Add($"WATCHDOG_PID={ownPid}");
        }
        return env;
    }

    /// <summary>The runtime ignores SIGPIPE and may block signals; execve keeps both, so undo them for the worker.</summary>
    private static void ResetSignals()
    {
        // SIGKILL and SIGSTOP refuse with EINVAL, which is harmless.
        for (var sig = 1; sig < 32; sig++)
        {
            Interop.signal(sig, Interop.SIG_DFL);
        }
        Span<byte> empty = stackalloc byte[128];
        empty.Clear();
        Interop.sigprocmask(Constants.SigSetMask, empty, 0);
    }

    private static unsafe int Exec(string path, IReadOnlyList<string> argv, List<string> env)
    {
        var argvPtrs = new byte*[argv.Count + 1];
        for (var i = 0; i < argv.Count; i++)
        {
            argvPtrs[i] = (byte*)Marshal.StringToCoTaskMemUTF8(argv[i]);
        }
        var envPtrs = new byte*[env.Count + 1];
        for (var i = 0; i < env.Count; i++)
        {
            envPtrs[i] = (byte*)Marshal.StringToCoTaskMemUTF8(env[i]);
        }
        var pathPtr = (byte*)Marshal.StringToCoTaskMemUTF8(path);
        fixed (byte** a = argvPtrs)
        fixed (byte** e = envPtrs)
        {
            Interop.execve(pathPtr, a, e);
        }
        return Marshal.GetLastPInvokeError();
    }

    private static string LastError() => Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());

    private static unsafe int Fail(int statusFd, int exitCode, string message)
    {
        Console.Error.WriteLine($"clusterd: {message}");
        if (statusFd >= 0)
        {
            var bytes = Encoding.UTF8.GetBytes(message);
            fixed (byte* p = bytes)
            {
                Interop.write(statusFd, p, bytes.Length);
            }
        }
        return exitCode;
    }
}
