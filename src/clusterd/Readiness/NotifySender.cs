namespace Clusterd.Readiness;

/// <summary>
/// One sender's messages waiting for the supervisor loop, folded into one: however many datagrams it sends before
/// the loop gets to it, it takes one place in the queue and one turn of the loop.
/// </summary>
internal sealed class NotifySender(int pid, int session, NotifyMessage message)
{
    /// <summary>The sender's pid, as the kernel vouches for it (SCM_CREDENTIALS).</summary>
    public int Pid { get; } = pid;

    /// <summary>Its session when its first datagram arrived (0 if it was already gone): which worker's child it is.</summary>
    public int Session { get; } = session;

    public NotifyMessage Message { get; private set; } = message;

    /// <summary>How many datagrams were folded in; all but one were superseded.</summary>
    public long Datagrams { get; private set; } = 1;

    public void Add(NotifyMessage later)
    {
        Message = Message.Then(later);
        Datagrams++;
    }
}
