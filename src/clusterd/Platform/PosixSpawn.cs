using System.Runtime.InteropServices;

namespace Clusterd.Platform;

/// <summary>
/// Starts a child with <c>posix_spawn</c> (vfork-like, safe in a multithreaded runtime): stdin on /dev/null,
/// stdout and stderr on the given pipes, and nothing else but the descriptors that are not close-on-exec.
/// Argument and environment strings live in native memory only for the call, so a running worker costs clusterd
/// no copy of its environment (docs/adr/0003).
/// </summary>
internal static class PosixSpawn
{
    /// <summary>Bigger than posix_spawn_file_actions_t on glibc (80 bytes) and on Darwin (a pointer).</summary>
    private const int FileActionsSize = 256;

    public static unsafe int Start(string path, IReadOnlyList<string> argv, IReadOnlyList<string> env, SafeHandle stdout, SafeHandle stderr)
    {
        var strings = new List<nint>(argv.Count + env.Count + 2);
        byte* Utf8(string s)
        {
            var p = Marshal.StringToCoTaskMemUTF8(s);
            strings.Add(p);
            return (byte*)p;
        }

        var argvPtrs = new byte*[argv.Count + 1];
        var envPtrs = new byte*[env.Count + 1];
        var actions = NativeMemory.AllocZeroed(FileActionsSize);
        try
        {
            for (var i = 0; i < argv.Count; i++)
            {
                argvPtrs[i] = Utf8(argv[i]);
            }
            for (var i = 0; i < env.Count; i++)
            {
                envPtrs[i] = Utf8(env[i]);
            }
            var pathPtr = Utf8(path);
            var devNull = Utf8("/dev/null");

            Check(Interop.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
            try
            {
                Check(Interop.posix_spawn_file_actions_addopen(actions, 0, devNull, 0 /* O_RDONLY */, 0), "posix_spawn_file_actions_addopen");
                Check(Interop.posix_spawn_file_actions_adddup2(actions, (int)stdout.DangerousGetHandle(), 1), "posix_spawn_file_actions_adddup2");
                Check(Interop.posix_spawn_file_actions_adddup2(actions, (int)stderr.DangerousGetHandle(), 2), "posix_spawn_file_actions_adddup2");
                int pid;
                fixed (byte** a = argvPtrs)
                fixed (byte** e = envPtrs)
                {
                    Check(Interop.posix_spawn(out pid, pathPtr, actions, null, a, e), "posix_spawn");
                }
                return pid;
            }
            finally
            {
                _ = Interop.posix_spawn_file_actions_destroy(actions); // frees what init and the add calls allocated; cannot fail on a valid object
            }
        }
        finally
        {
            NativeMemory.Free(actions);
            foreach (var p in strings)
            {
                Marshal.FreeCoTaskMem(p);
            }
        }
    }

    private static void Check(int error, string call)
    {
        if (error != 0)
        {
            throw new ErrnoException(call, error);
        }
    }
}
