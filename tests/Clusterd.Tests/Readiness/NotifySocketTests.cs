using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using Clusterd.Platform;
using Clusterd.Readiness;
using Microsoft.Extensions.Time.Testing;

namespace Clusterd.Tests.Readiness;

[SupportedOSPlatform("linux")] // SCM_CREDENTIALS
public sealed class NotifySocketTests : IDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(10);

    private readonly string _dir = Directory.CreateTempSubdirectory("clusterd-notify-").FullName;
    private readonly FakeTimeProvider _time = new();
    private readonly ListLogger _log = new();
    private readonly SemaphoreSlim _wakes = new(0);
    private readonly List<NotifySocket> _sockets = [];

    public void Dispose()
    {
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }
        Directory.Delete(_dir, recursive: true);
        _wakes.Dispose();
    }

    private string NotifyDirectory => Path.Combine(_dir, "notify");

    private NotifySocket Scripted(ScriptedSource source, int capacity = NotifyInbox.DefaultCapacity)
    {
        var socket = new NotifySocket(null, null, source,
            s => new NotifyInbox("web", _log, _time, pid => pid + 1000, () => _wakes.Release(), capacity), _log, _time);
        _sockets.Add(socket);
        return socket;
    }

    private NotifySocket OpenReal(uint? owner = null)
    {
        var socket = NotifySocket.Open(NotifyDirectory, "web", owner, _ => _wakes.Release(), _log, _time);
        _sockets.Add(socket);
        return socket;
    }

    private async Task WokenAsync() => Assert.True(await _wakes.WaitAsync(s_deadline), "the loop was never woken");

    private static List<NotifySender> DrainAll(NotifySocket socket)
    {
        var delivered = new List<NotifySender>();
        socket.Inbox.Drain(s =>
        {
            delivered.Add(s);
            return true;
        });
        return delivered;
    }

    [Fact]
    public async Task Receive_UnexpectedErrno_IsLoggedAndReadingGoesOnASecondLater()
    {
        var source = new ScriptedSource();
        source.Fail(new ErrnoException("recvmsg", 105));
        source.Send("READY=1", pid: 10);
        var socket = Scripted(source);

        var failure = await _log.WaitForAsync(402).WaitAsync(s_deadline);
        _time.Advance(TimeSpan.FromSeconds(1));
        await WokenAsync();

        Assert.Contains("recvmsg failed", (string)failure["Reason"]!, StringComparison.Ordinal);
        var sender = Assert.Single(DrainAll(socket));
        Assert.Equal((10, 1010, true), (sender.Pid, sender.Session, sender.Message.Ready));
        Assert.False(socket.Receiving.IsCompleted);
    }

    [Fact]
    public async Task Receive_UnexpectedException_IsLoggedAsABugAndReadingGoesOn()
    {
        var source = new ScriptedSource();
        source.Fail(new InvalidOperationException("boom"));
        source.Send("WATCHDOG=1", pid: 10);
        var socket = Scripted(source);

        await _log.WaitForAsync(403).WaitAsync(s_deadline);
        _time.Advance(TimeSpan.FromSeconds(1));
        await WokenAsync();

        Assert.True(Assert.Single(DrainAll(socket)).Message.WatchdogPing);
    }

    [Fact]
    public async Task Receive_MalformedDatagrams_AreIgnoredAndSaidWhy()
    {
        var source = new ScriptedSource();
        source.Send("READY=1", pid: 10, truncated: true);
        source.Send("READY=1\0", pid: 11);
        source.Send("READY=1", pid: 0);
        source.Send("BARRIER=1", pid: 12); // valid, but nothing to act on: the loop is not even woken for it
        source.Send("STATUS=fine", pid: 13);
        var socket = Scripted(source);

        await WokenAsync();

        Assert.Equal([13], DrainAll(socket).Select(s => s.Pid));
        Assert.Equal(["longer than 4096 bytes", "it contains a NUL byte", "the kernel did not tell its sender"],
            _log.WithId(404).Select(e => (string)e["Why"]!));
    }

    [Fact]
    public async Task Receive_InboxFullOfOtherSenders_WaitsForRoomAndLosesNothing()
    {
        var source = new ScriptedSource();
        source.Send("READY=1", pid: 1);
        source.Send("READY=1", pid: 2);
        var socket = Scripted(source, capacity: 1);

        await WokenAsync();
        var first = DrainAll(socket);
        await WokenAsync();
        var second = DrainAll(socket);

        Assert.Equal([1], first.Select(s => s.Pid));
        Assert.Equal([2], second.Select(s => s.Pid));
        Assert.Equal(1, socket.Inbox.Peak);
    }

    [Fact]
    public async Task Dispose_EndsReceivingAndReleasesTheSource()
    {
        var source = new ScriptedSource();
        var socket = Scripted(source);

        socket.Dispose();
        await socket.Receiving.WaitAsync(s_deadline);

        Assert.True(source.Disposed);
        Assert.Empty(_log.Entries);
    }

    [Fact]
    public void Open_MakesASocketOnlyItsOwnerMayWriteToInADirectoryOthersMayOnlyTraverse()
    {
        var socket = OpenReal();

        var directory = FileStatus.Of(NotifyDirectory);
        var file = FileStatus.Of(socket.Path);
        Assert.Equal(Path.Combine(NotifyDirectory, "web"), socket.Path);
        Assert.Equal((FileKind.Directory, 0x1C9u), (directory.Kind, directory.Mode)); // 0711
        Assert.Equal((FileKind.Socket, 0x180u, UserDatabase.EffectiveUid), (file.Kind, file.Mode, file.Uid)); // 0600
    }

    [Fact]
    public async Task Open_DatagramFromThisProcess_ArrivesWithItsPidAndSession()
    {
        var socket = OpenReal();
        using var client = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);

        client.SendTo("READY=1\nSTATUS=up"u8.ToArray(), new UnixDomainSocketEndPoint(socket.Path));
        await WokenAsync();

        var sender = Assert.Single(DrainAll(socket));
        Assert.Equal((Environment.ProcessId, ProcessSession.Of(Environment.ProcessId)), (sender.Pid, sender.Session));
        Assert.Equal(new NotifyMessage(Ready: true, false, false, false, "up"), sender.Message);
    }

    [Fact]
    public void Open_RegularFileAtThePath_IsRefusedAndKeepsItsContent()
    {
        Directory.CreateDirectory(NotifyDirectory);
        File.WriteAllText(Path.Combine(NotifyDirectory, "web"), "precious");

        var e = Assert.Throws<IOException>(() => OpenReal());

        Assert.Contains("notify socket of group 'web'", e.Message, StringComparison.Ordinal);
        Assert.Equal("precious", File.ReadAllText(Path.Combine(NotifyDirectory, "web")));
    }

    [Fact]
    public void Open_PathTooLongForAUnixSocket_SaysSoAndLeavesNothing()
    {
        var name = new string('g', 120);

        var e = Assert.Throws<IOException>(() => NotifySocket.Open(NotifyDirectory, name, null, _ => { }, _log, _time));

        Assert.Contains("a Unix socket path may have at most 107", e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(NotifyDirectory));
    }

    [Fact]
    public void Dispose_RemovesTheSocketFile()
    {
        var socket = OpenReal();

        socket.Dispose();

        Assert.Equal(FileKind.Missing, FileStatus.Of(socket.Path).Kind);
    }

    [Fact]
    public void Dispose_SomethingElsePutAtThePathMeanwhile_IsLeftAlone()
    {
        var socket = OpenReal();
        File.Delete(socket.Path);
        File.WriteAllText(socket.Path, "precious");

        socket.Dispose();

        Assert.Equal("precious", File.ReadAllText(socket.Path));
    }

    [Fact]
    public void GiveTo_SocketFileGone_SaysItCouldNotAndCarriesOn()
    {
        var socket = OpenReal();
        File.Delete(socket.Path);

        socket.GiveTo(65534);

        var error = Assert.Single(_log.WithId(406));
        Assert.Contains("chown", (string)error["Reason"]!, StringComparison.Ordinal);
        Assert.False(socket.Receiving.IsCompleted);
    }

    [Fact]
    public void Open_AsRootForAWorkerUser_GivesTheSocketToThatUserAndGiveToMovesIt()
    {
        if (!RequireRoot())
        {
            return;
        }
        var socket = OpenReal(owner: 65534);
        var first = FileStatus.Of(socket.Path);

        socket.GiveTo(1);
        var second = FileStatus.Of(socket.Path);
        socket.GiveTo(null);

        Assert.Equal((65534u, 0x180u), (first.Uid, first.Mode));
        Assert.Equal(1u, second.Uid);
        Assert.Equal(0u, FileStatus.Of(socket.Path).Uid);
    }

    [Fact]
    public void Open_ForAnotherUserUnderADirectoryClosedToOthers_WarnsThatTheyCannotReachIt()
    {
        if (!RequireRoot())
        {
            return;
        }
        File.SetUnixFileMode(_dir, (UnixFileMode)0x1E8); // 0750

        OpenReal(owner: 65534);

        var warning = Assert.Single(_log.WithId(405));
        Assert.Equal<(object?, object?)>((_dir, "750"), (warning["Directory"], warning["Mode"]));
    }

    [Fact]
    public void Open_ForAnotherUserWithANotifyDirectoryClosedToOthers_WarnsAboutThatDirectory()
    {
        if (!RequireRoot())
        {
            return;
        }
        File.SetUnixFileMode(_dir, (UnixFileMode)0x1ED); // 0755
        Directory.CreateDirectory(NotifyDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        OpenReal(owner: 65534);

        var warning = Assert.Single(_log.WithId(405));
        Assert.Equal<(object?, object?)>((NotifyDirectory, "700"), (warning["Directory"], warning["Mode"]));
    }

    [Fact]
    public void Open_ForAnotherUserWithEveryDirectoryOpenToThem_DoesNotWarn()
    {
        if (!RequireRoot())
        {
            return;
        }
        File.SetUnixFileMode(_dir, (UnixFileMode)0x1E9); // 0751

        OpenReal(owner: 65534);

        Assert.Empty(_log.WithId(405));
    }

    private static bool RequireRoot()
    {
        Assert.False(!UserDatabase.IsRoot && Environment.GetEnvironmentVariable("CI") == "true", "CI runs as root: this test must not be skipped there");
        return UserDatabase.IsRoot;
    }
}
