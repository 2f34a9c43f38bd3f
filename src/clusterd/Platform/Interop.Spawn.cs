using System.Runtime.InteropServices;

namespace Clusterd.Platform;

/// <summary>posix_spawn and the wait family: how clusterd starts and reaps its workers without <c>Process</c> (docs/adr/0003).</summary>
internal static partial class Interop
{
    /// <summary>Returns an error number (0 on success); posix_spawn does not set errno.</summary>
    [LibraryImport(Libc, EntryPoint = "posix_spawn")]
    internal static unsafe partial int posix_spawn(out int pid, byte* path, void* fileActions, void* attributes, byte** argv, byte** envp);

    [LibraryImport(Libc, EntryPoint = "posix_spawn_file_actions_init")]
    internal static unsafe partial int posix_spawn_file_actions_init(void* fileActions);

    [LibraryImport(Libc, EntryPoint = "posix_spawn_file_actions_destroy")]
    internal static unsafe partial int posix_spawn_file_actions_destroy(void* fileActions);

    [LibraryImport(Libc, EntryPoint = "posix_spawn_file_actions_adddup2")]
    internal static unsafe partial int posix_spawn_file_actions_adddup2(void* fileActions, int fd, int newfd);

    [LibraryImport(Libc, EntryPoint = "posix_spawn_file_actions_addopen")]
    internal static unsafe partial int posix_spawn_file_actions_addopen(void* fileActions, int fd, byte* path, int flags, uint mode);

    [LibraryImport(Libc, EntryPoint = "posix_spawn_file_actions_addclose")]
    internal static unsafe partial int posix_spawn_file_actions_addclose(void* fileActions, int fd);

    [LibraryImport(Libc, EntryPoint = "posix_spawnattr_init")]
    internal static unsafe partial int posix_spawnattr_init(void* attributes);

    [LibraryImport(Libc, EntryPoint = "posix_spawnattr_destroy")]
    internal static unsafe partial int posix_spawnattr_destroy(void* attributes);

    [LibraryImport(Libc, EntryPoint = "posix_spawnattr_setflags")]
    internal static unsafe partial int posix_spawnattr_setflags(void* attributes, short flags);

    [LibraryImport(Libc, EntryPoint = "posix_spawnattr_setsigdefault")]
    internal static unsafe partial int posix_spawnattr_setsigdefault(void* attributes, void* signals);

    [LibraryImport(Libc, EntryPoint = "posix_spawnattr_setsigmask")]
    internal static unsafe partial int posix_spawnattr_setsigmask(void* attributes, void* signals);

    [LibraryImport(Libc, EntryPoint = "sigemptyset", SetLastError = true)]
    internal static unsafe partial int sigemptyset(void* set);

    [LibraryImport(Libc, EntryPoint = "sigfillset", SetLastError = true)]
    internal static unsafe partial int sigfillset(void* set);

    /// <summary>The same values on glibc and Darwin.</summary>
    internal const short POSIX_SPAWN_SETSIGDEF = 0x04;
    internal const short POSIX_SPAWN_SETSIGMASK = 0x08;

    [LibraryImport(Libc, EntryPoint = "waitpid", SetLastError = true)]
    internal static partial int waitpid(int pid, out int status, int options);

    [LibraryImport(Libc, EntryPoint = "waitid", SetLastError = true)]
    internal static unsafe partial int waitid(int idType, int id, byte* info, int options);

    [LibraryImport(Libc, EntryPoint = "pipe", SetLastError = true)]
    internal static unsafe partial int pipe(int* fds);

    internal const int P_ALL = 0;
    internal const int WNOHANG = 1;
    internal const int WEXITED = 4;
}
