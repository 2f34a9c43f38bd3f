using Clusterd.Readiness;

namespace Clusterd.Tests.Readiness;

public sealed class NotifyAttributionTests
{
    private sealed record FakeWorker(string Group);

    private static readonly FakeWorker s_web = new("web");
    private static readonly FakeWorker s_api = new("api");

    // Main pids: 100 is web's worker, 200 api's.
    private static readonly Dictionary<int, FakeWorker> s_mainPids = new() { [100] = s_web, [200] = s_api };

    private static FakeWorker? Resolve(int pid, int session) => NotifyAttribution.Resolve(pid, session, s_mainPids, w => w.Group == "web");

    [Fact]
    public void Resolve_WorkersMainPid_IsDeliveredToIt()
    {
        Assert.Same(s_web, Resolve(100, session: 100));
    }

    [Fact]
    public void Resolve_ProcessInAWorkersSession_IsDeliveredToThatWorker()
    {
        // systemd-notify run by the worker's shell sends as its own pid; its session is the worker's.
        Assert.Same(s_web, Resolve(101, session: 100));
    }

    [Fact]
    public void Resolve_WorkerOfAnotherGroup_IsAStranger()
    {
        Assert.Null(Resolve(200, session: 200));
    }

    [Fact]
    public void Resolve_ChildOfAnotherGroupsWorker_IsAStranger()
    {
        Assert.Null(Resolve(201, session: 200));
    }

    [Fact]
    public void Resolve_ProcessInNoWorkersSession_IsAStranger()
    {
        Assert.Null(Resolve(300, session: 1));
    }

    [Fact]
    public void Resolve_GoneBeforeItsSessionWasRead_IsAStranger()
    {
        Assert.Null(Resolve(300, session: 0));
    }
}
