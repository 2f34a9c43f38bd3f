using System.Runtime.InteropServices;

namespace Clusterd.Platform;

/// <summary>
/// Reaps the children clusterd spawned itself (<see cref="PosixSpawn"/>) and hands each one's wait status to the
/// callback it was watched with, once. SIGCHLD, which the runtime delivers on its signal thread, only says "look":
/// signals coalesce, so every look takes all the exited children there are. Only watched pids are reaped
/// (<c>waitpid(pid)</c>, never <c>waitpid(-1)</c>), so a <see cref="System.Diagnostics.Process"/> started
/// elsewhere in the process keeps its own exit.
/// </summary>
internal sealed class ChildReaper : IDisposable
{
    private readonly Dictionary<int, Action<int>> _watched = [];
    private readonly PosixSignalRegistration _sigchld;

    public ChildReaper() => _sigchld = PosixSignalRegistration.Create(PosixSignal.SIGCHLD, _ => ReapExited());

    /// <summary>Calls <paramref name="onExit"/> with the wait status once <paramref name="pid"/> has exited (at once if it already has).</summary>
    public void Watch(int pid, Action<int> onExit)
    {
        lock (_watched)
        {
            _watched.Add(pid, onExit);
        }
        ReapExited(); // it may have died before it was watched, and that SIGCHLD's look passed it by
    }

    private void ReapExited()
    {
        List<(Action<int> OnExit, int Status)> exits = [];
        lock (_watched)
        {
            // Peek (WNOWAIT) at the next exited child: one waitpid per exit instead of one per watched child.
            while (PeekExited() is int pid)
            {
                if (!_watched.ContainsKey(pid))
                {
                    ReapEachWatched(exits); // not ours, or ours and not watched yet: ask each of ours instead
                    break;
                }
                if (!TryReap(pid, exits))
                {
                    break;
                }
            }
        }
        foreach (var (onExit, status) in exits)
        {
            onExit(status);
        }
    }

    private void ReapEachWatched(List<(Action<int>, int)> exits)
    {
        foreach (var pid in _watched.Keys.ToArray())
        {
            TryReap(pid, exits);
        }
    }

    private bool TryReap(int pid, List<(Action<int>, int)> exits)
    {
        if (Interop.waitpid(pid, out var status, Interop.WNOHANG) != pid || !_watched.Remove(pid, out var onExit))
        {
            return false;
        }
        exits.Add((onExit, status));
        return true;
    }

    /// <summary>The pid of a child that has exited and is not reaped yet, or null if there is none.</summary>
    private static unsafe int? PeekExited()
    {
        var info = stackalloc byte[128]; // siginfo_t; zeroed so that "none yet" reads as pid 0
        new Span<byte>(info, 128).Clear();
        if (Interop.waitid(Interop.P_ALL, 0, info, Interop.WEXITED | Interop.WNOHANG | Constants.WNoWait) != 0)
        {
            return null; // ECHILD: no children at all
        }
        var pid = *(int*)(info + Constants.SiginfoPidOffset);
        return pid > 0 ? pid : null;
    }

    public void Dispose() => _sigchld.Dispose();
}
