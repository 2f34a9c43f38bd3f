using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace Clusterd.Platform;

/// <summary>
/// One thread that waits, with epoll, on descriptors that say something happened to a worker: pidfds (readable once the
/// process has exited) and cgroup.events files (priority data when a cgroup empties), plus a wake-up (an eventfd) for
/// when SIGCHLD asks for a look around. Callbacks run on that thread: they must be quick and must not block.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class EpollWatcher : IDisposable
{
    private const ulong WakeToken = 0;
    private const int MaxEvents = 64;

    // struct epoll_event is packed on x86-64 (12 bytes: u32 events, u64 data) and naturally aligned elsewhere (16).
    private static readonly int s_eventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
    private static readonly int s_dataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    private readonly SafeFileHandle _epoll;
    private readonly SafeFileHandle _wake;
    private readonly Dictionary<ulong, Action> _watches = [];
    private readonly Thread _thread;
    private ulong _nextToken = WakeToken + 1;
    private volatile bool _disposed;

    private readonly Action<Exception> _failed;

    /// <param name="woken">Called on the watcher thread after <see cref="Wake"/> (several wakes may make one call).</param>
    /// <param name="failed">Told of a callback that threw; the thread carries on (its end would leave exits unseen).</param>
    public EpollWatcher(Action woken, Action<Exception> failed)
    {
        _failed = failed;
        var epoll = Interop.epoll_create1(Interop.EPOLL_CLOEXEC);
        ErrnoException.ThrowIfFailed(epoll, "epoll_create1");
        _epoll = new SafeFileHandle(epoll, ownsHandle: true);
        var wake = Interop.eventfd(0, Interop.EFD_CLOEXEC | Interop.EFD_NONBLOCK);
        ErrnoException.ThrowIfFailed(wake, "eventfd");
        _wake = new SafeFileHandle(wake, ownsHandle: true);
        Control(Interop.EPOLL_CTL_ADD, _wake, Interop.EPOLLIN, WakeToken);
        _thread = new Thread(() => Run(woken)) { IsBackground = true, Name = "clusterd exit watcher" };
        _thread.Start();
    }

    /// <summary>Calls <paramref name="ready"/> whenever <paramref name="fd"/> has <paramref name="events"/> (level-triggered).</summary>
    /// <returns>A token for <see cref="Remove"/>.</returns>
    public ulong Add(SafeHandle fd, uint events, Action ready)
    {
        ulong token;
        lock (_watches)
        {
            token = _nextToken++;
            _watches.Add(token, ready);
        }
        Control(Interop.EPOLL_CTL_ADD, fd, events, token);
        return token;
    }

    /// <summary>Stops watching; call before the descriptor is closed. A call already under way may still arrive.</summary>
    public void Remove(SafeHandle fd, ulong token)
    {
        lock (_watches)
        {
            _watches.Remove(token);
        }
        Control(Interop.EPOLL_CTL_DEL, fd, 0, token);
    }

    /// <summary>Asks the thread for a look around (e.g. on SIGCHLD). Safe from any thread, never blocks.</summary>
    public unsafe void Wake()
    {
        ulong one = 1;
        _ = Interop.write((int)_wake.DangerousGetHandle(), (byte*)&one, sizeof(ulong)); // EAGAIN: a wake is pending anyway
    }

    private unsafe void Control(int op, SafeHandle fd, uint events, ulong token)
    {
        var e = stackalloc byte[16];
        *(uint*)e = events;
        *(ulong*)(e + s_dataOffset) = token;
        ErrnoException.ThrowIfFailed(Interop.epoll_ctl((int)_epoll.DangerousGetHandle(), op, (int)fd.DangerousGetHandle(), e), "epoll_ctl");
    }

    private unsafe void Run(Action woken)
    {
        var events = new byte[MaxEvents * s_eventSize];
        while (!_disposed)
        {
            int n;
            fixed (byte* p = events)
            {
                n = Interop.epoll_wait((int)_epoll.DangerousGetHandle(), p, MaxEvents, -1);
            }
            if (n < 0)
            {
                continue; // EINTR; anything else cannot happen with a valid epoll fd and buffer
            }
            var wasWoken = false;
            for (var i = 0; i < n; i++)
            {
                var token = BitConverter.ToUInt64(events, i * s_eventSize + s_dataOffset);
                if (token == WakeToken)
                {
                    DrainWake();
                    wasWoken = true;
                    continue;
                }
                Action? ready;
                lock (_watches)
                {
                    _watches.TryGetValue(token, out ready);
                }
                if (ready is not null)
                {
                    Invoke(ready);
                }
            }
            if (wasWoken && !_disposed)
            {
                Invoke(woken);
            }
        }
    }

    private void Invoke(Action callback)
    {
        try
        {
            callback();
        }
        catch (Exception e)
        {
            _failed(e);
        }
    }

    private unsafe void DrainWake()
    {
        ulong count;
        _ = Interop.read((int)_wake.DangerousGetHandle(), (byte*)&count, sizeof(ulong));
    }

    public void Dispose()
    {
        _disposed = true;
        Wake();
        _thread.Join();
        _wake.Dispose();
        _epoll.Dispose();
    }
}
