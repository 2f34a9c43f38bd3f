using System.Runtime.InteropServices;

namespace Clusterd.Platform;

/// <summary>
/// Starts a child with <c>posix_spawn</c> (vfork-like, safe in a multithreaded runtime): stdin on /dev/null,
/// stdout and stderr on the given pipes, the descriptors it is asked to pass on, every signal at its default
/// disposition and none blocked, whatever the spawning thread has. Everything else of clusterd's is close-on-exec.
/// Argument and environment strings live in native memory only for the call, so a running worker costs clusterd
/// no copy of its environment (docs/adr/0003).
/// </summary>
internal static class PosixSpawn
{
    /// <summary>Bigger than posix_spawn_file_actions_t on glibc (80 bytes) and on Darwin (a pointer).</summary>
    private const int FileActionsSize = 256;

    /// <summary>Bigger than posix_spawnattr_t on glibc (336 bytes) and on Darwin (a pointer).</summary>
    private const int AttributesSize = 512;

    /// <summary>Bigger than sigset_t on glibc (128 bytes) and on Darwin (4 bytes).</summary>
    private const int SignalSetSize = 128;

    public static int Start(string path, IReadOnlyList<string> argv, IReadOnlyList<string> env, SafeHandle stdout, SafeHandle stderr) =>
        Start(path, _ => argv, env, stdout, stderr, [], out _);

    /// <summary>
    /// As the other overload, and the child also gets <paramref name="inherited"/>, at the numbers returned in
    /// <paramref name="placed"/>, in order: above every descriptor the spawn reads, so that no file action overwrites
    /// one that a later action still reads. <paramref name="argvFor"/> is given those numbers before the spawn.
    /// </summary>
    public static unsafe int Start(
        string path, Func<IReadOnlyList<int>, IReadOnlyList<string>> argvFor, IReadOnlyList<string> env,
        SafeHandle stdout, SafeHandle stderr, IReadOnlyList<SafeHandle> inherited, out int[] placed)
    {
        var strings = new List<nint>();
        byte* Utf8(string s)
        {
            var p = Marshal.StringToCoTaskMemUTF8(s);
            strings.Add(p);
            return (byte*)p;
        }

        using var borrowed = new BorrowedDescriptors([stdout, stderr, .. inherited]); // ours until the child has its copies
        var fds = borrowed.Fds;
        var actions = NativeMemory.AllocZeroed(FileActionsSize);
        var attributes = NativeMemory.AllocZeroed(AttributesSize);
        try
        {
            var first = Math.Max(2, fds.Max()) + 1;
            placed = [.. Enumerable.Range(first, inherited.Count)];

            var argv = argvFor(placed);
            var argvPtrs = new byte*[argv.Count + 1];
            var envPtrs = new byte*[env.Count + 1];
            for (var i = 0; i < argv.Count; i++)
            {
                argvPtrs[i] = Utf8(argv[i]);
            }
            for (var i = 0; i < env.Count; i++)
            {
                envPtrs[i] = Utf8(env[i]);
            }
            var pathPtr = Utf8(path);

            Check(Interop.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
            try
            {
                AddFileActions(actions, fds, first, Utf8("/dev/null"));
                Check(Interop.posix_spawnattr_init(attributes), "posix_spawnattr_init");
                try
                {
                    ResetSignals(attributes);
                    int pid;
                    fixed (byte** a = argvPtrs)
                    fixed (byte** e = envPtrs)
                    {
                        Check(Interop.posix_spawn(out pid, pathPtr, actions, attributes, a, e), "posix_spawn");
                    }
                    return pid;
                }
                finally
                {
                    _ = Interop.posix_spawnattr_destroy(attributes); // cannot fail on an initialised object
                }
            }
            finally
            {
                _ = Interop.posix_spawn_file_actions_destroy(actions); // frees what init and the add calls allocated; cannot fail on a valid object
            }
        }
        finally
        {
            NativeMemory.Free(attributes);
            NativeMemory.Free(actions);
            foreach (var p in strings)
            {
                Marshal.FreeCoTaskMem(p);
            }
        }
    }

    /// <summary>
    /// <paramref name="fds"/>: stdout, stderr, then the inherited ones, which go to first, first+1, ... Every number
    /// from <paramref name="first"/> up is above every source, and stdout and stderr move there too before anything is
    /// put on 0, 1 or 2, so each action reads a descriptor no earlier action has replaced, even if clusterd itself
    /// started with 0-2 closed and its pipes got those numbers.
    /// </summary>
    private static unsafe void AddFileActions(void* actions, int[] fds, int first, byte* devNull)
    {
        var inherited = fds.Length - 2;
        var stdoutCopy = first + inherited;
        var stderrCopy = stdoutCopy + 1;
        for (var i = 0; i < inherited; i++)
        {
            Check(Interop.posix_spawn_file_actions_adddup2(actions, fds[2 + i], first + i), "posix_spawn_file_actions_adddup2");
        }
        Check(Interop.posix_spawn_file_actions_adddup2(actions, fds[0], stdoutCopy), "posix_spawn_file_actions_adddup2");
        Check(Interop.posix_spawn_file_actions_adddup2(actions, fds[1], stderrCopy), "posix_spawn_file_actions_adddup2");
        Check(Interop.posix_spawn_file_actions_addopen(actions, 0, devNull, 0 /* O_RDONLY */, 0), "posix_spawn_file_actions_addopen");
        Check(Interop.posix_spawn_file_actions_adddup2(actions, stdoutCopy, 1), "posix_spawn_file_actions_adddup2");
        Check(Interop.posix_spawn_file_actions_adddup2(actions, stderrCopy, 2), "posix_spawn_file_actions_adddup2");
        Check(Interop.posix_spawn_file_actions_addclose(actions, stdoutCopy), "posix_spawn_file_actions_addclose");
        Check(Interop.posix_spawn_file_actions_addclose(actions, stderrCopy), "posix_spawn_file_actions_addclose");
    }

    /// <summary>
    /// The runtime ignores SIGPIPE, and a spawning thread may block signals; execve keeps both. The child starts with
    /// every signal at its default and none blocked.
    /// </summary>
    private static unsafe void ResetSignals(void* attributes)
    {
        var signals = stackalloc byte[SignalSetSize];
        ErrnoException.ThrowIfFailed(Interop.sigfillset(signals), "sigfillset");
        Check(Interop.posix_spawnattr_setsigdefault(attributes, signals), "posix_spawnattr_setsigdefault");
        ErrnoException.ThrowIfFailed(Interop.sigemptyset(signals), "sigemptyset");
        Check(Interop.posix_spawnattr_setsigmask(attributes, signals), "posix_spawnattr_setsigmask");
        Check(Interop.posix_spawnattr_setflags(attributes, Interop.POSIX_SPAWN_SETSIGDEF | Interop.POSIX_SPAWN_SETSIGMASK), "posix_spawnattr_setflags");
    }

    private static void Check(int error, string call)
    {
        if (error != 0)
        {
            throw new ErrnoException(call, error);
        }
    }
}
