using Clusterd.Config;
using Clusterd.Platform;
using Clusterd.Protocol;
using Clusterd.Readiness;
using Microsoft.Extensions.Logging;

namespace Clusterd.Supervision;

/// <summary>
/// sd_notify: every group has its own notify socket (Readiness/NotifySocket.cs, docs/adr/0006); the loop drains a
/// group's inbox when woken and applies each message to the worker it is attributed to.
/// </summary>
internal sealed partial class Supervisor
{
    /// <summary>RUNTIME/notify, RUNTIME being the control socket's directory; fixed at start, as the control socket is.</summary>
    private string? _notifyDirectory;

    /// <summary>
    /// A group about to run: its notify socket first, then its listeners; if either fails, neither stays. A reload's dry
    /// run binds the listeners (and lets them go) but opens no notify socket: claiming its path may remove a stale file,
    /// and would close a removed namesake's socket, and a dry run changes nothing.
    /// </summary>
    private GroupRuntime NewGroup(GroupConfig config, bool dryRun = false)
    {
        NotifySocket? notify = null;
        if (!dryRun)
        {
            foreach (var old in _removing.Where(g => g.Name == config.Name))
            {
                old.CloseNotify(); // a removed group of the same name still stopping: its socket has the path; its workers are on their way out
            }
            notify = _openNotify(config, socket => Post(new NotifyEvent(socket)));
        }
        try
        {
            return new GroupRuntime(config, BindListeners(config, dryRun ? DryRunSockets.Instance : _sockets), generation: 1) { Notify = notify };
        }
        catch
        {
            notify?.Dispose();
            throw;
        }
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private NotifySocket OpenNotify(GroupConfig config, Action<NotifySocket> wake, ILogger logger)
    {
        _notifyDirectory ??= Path.Combine(Path.GetDirectoryName(Path.GetFullPath(_config!.Control.Socket ?? SocketPaths.Default()))!, "notify");
        return NotifySocket.Open(_notifyDirectory, config.Name, NotifyOwner(config), wake, logger, Time);
    }

    /// <summary>Who may send to the group's socket: the user its workers run as; null for clusterd's own (not root, or no <c>user</c>).</summary>
    private static uint? NotifyOwner(GroupConfig config) =>
        UserDatabase.IsRoot && config.User is not null ? UserDatabase.LookupUser(config.User)?.Uid : null;

    /// <summary>The group's workers are about to run as another user (a reload): the socket goes to that user.</summary>
    private static void GiveNotifySocket(GroupRuntime group)
    {
        if (OperatingSystem.IsLinux() && group.Notify is { } notify)
        {
            uint? owner;
            try
            {
                owner = NotifyOwner(group.Config);
            }
            catch (IOException)
            {
                return; // the user cannot be looked up: spawning will fail and say so
            }
            notify.GiveTo(owner);
        }
    }

    private void OnNotify(NotifySocket socket)
    {
        // The group may be gone since its socket woke the loop; its socket is closed then.
        if (AllGroups.FirstOrDefault(g => g.Notify == socket) is { } group)
        {
            socket.Inbox.Drain(sender => Deliver(group, sender));
        }
    }

    /// <summary>Applies the sender's messages to the worker it speaks for; false if it is no worker of the group.</summary>
    private bool Deliver(GroupRuntime group, NotifySender sender)
    {
        if (NotifyAttribution.Resolve(sender.Pid, sender.Session, _byPid, w => w.Group == group) is not { } worker)
        {
            return false;
        }
        Apply(worker, sender.Message);
        return true;
    }

    private void Apply(Worker worker, NotifyMessage message)
    {
        if (message.Ready)
        {
            WorkerStateMachine.Handle(this, worker, WorkerInput.NotifyReady);
        }
        if (message.WatchdogPing)
        {
            WorkerStateMachine.Handle(this, worker, WorkerInput.NotifyWatchdog);
        }
        if (message.Status is { } status && status != worker.Status)
        {
            worker.Status = status;
            LogWorkerStatus(worker.Group.Name, worker.Slot, worker.Pid, status); // on change only: a chatty worker does not flood the log
        }
        if (message.Stopping)
        {
            LogWorkerStopping(worker.Group.Name, worker.Slot, worker.Pid);
        }
        if (message.WatchdogTrigger)
        {
            WorkerStateMachine.Handle(this, worker, WorkerInput.WatchdogTimer);
        }
    }
}
