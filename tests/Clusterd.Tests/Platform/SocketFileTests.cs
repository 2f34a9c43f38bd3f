using System.Net.Sockets;
using Clusterd.Platform;

namespace Clusterd.Tests.Platform;

public sealed class SocketFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("clusterd-socketfile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    /// <summary>A socket file nothing is bound to, as a crashed process leaves it (.NET removes its own on Dispose).</summary>
    private void MakeStaleSocket(string path)
    {
        var bound = PathOf("bound-" + Guid.NewGuid().ToString("N"));
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Bind(new UnixDomainSocketEndPoint(bound));
        File.Move(bound, path);
    }

    [Fact]
    public void Claim_NothingThere_LeavesThePathFree()
    {
        SocketFile.Claim(PathOf("a.sock"), "test socket");

        Assert.Equal(FileKind.Missing, FileStatus.Of(PathOf("a.sock")).Kind);
    }

    [Fact]
    public void Claim_RegularFile_IsRefusedAndKeepsItsContent()
    {
        File.WriteAllText(PathOf("precious"), "precious");

        var e = Assert.Throws<IOException>(() => SocketFile.Claim(PathOf("precious"), "[control] socket"));

        Assert.Contains("is a regular file, not a socket", e.Message, StringComparison.Ordinal);
        Assert.Contains(PathOf("precious"), e.Message, StringComparison.Ordinal);
        Assert.Equal("precious", File.ReadAllText(PathOf("precious")));
    }

    [Fact]
    public void Claim_SymlinkToAStaleSocket_IsRefusedAndBothStay()
    {
        var target = PathOf("stale.sock");
        MakeStaleSocket(target);
        File.CreateSymbolicLink(PathOf("link.sock"), target);

        var e = Assert.Throws<IOException>(() => SocketFile.Claim(PathOf("link.sock"), "test socket"));

        Assert.Contains("symbolic link", e.Message, StringComparison.Ordinal);
        Assert.Equal(FileKind.Symlink, FileStatus.Of(PathOf("link.sock")).Kind);
        Assert.Equal(FileKind.Socket, FileStatus.Of(target).Kind);
    }

    [Fact]
    public void Claim_StaleSocket_IsRemoved()
    {
        var path = PathOf("stale.sock");
        MakeStaleSocket(path);
        Assert.Equal(FileKind.Socket, FileStatus.Of(path).Kind);

        SocketFile.Claim(path, "test socket");

        Assert.Equal(FileKind.Missing, FileStatus.Of(path).Kind);
    }

    [Theory]
    [InlineData(SocketType.Stream)]
    [InlineData(SocketType.Dgram)]
    public void Claim_LiveSocket_IsRefusedAndKept(SocketType type)
    {
        var path = PathOf("live.sock");
        using var live = new Socket(AddressFamily.Unix, type, ProtocolType.Unspecified);
        live.Bind(new UnixDomainSocketEndPoint(path));
        if (type == SocketType.Stream)
        {
            live.Listen();
        }

        var e = Assert.Throws<IOException>(() => SocketFile.Claim(path, "test socket"));

        Assert.Contains("is in use", e.Message, StringComparison.Ordinal);
        Assert.Equal(FileKind.Socket, FileStatus.Of(path).Kind);
    }

    [Fact]
    public void Check_RegularFileOrSymlink_NamesItAndChangesNothing()
    {
        File.WriteAllText(PathOf("precious"), "precious");
        File.CreateSymbolicLink(PathOf("link.sock"), PathOf("precious"));

        var file = SocketFile.Check(PathOf("precious"), "[control] socket");
        var link = SocketFile.Check(PathOf("link.sock"), "[control] socket");

        Assert.Contains($"[control] socket {PathOf("precious")} exists and is a regular file", file, StringComparison.Ordinal);
        Assert.Contains($"[control] socket {PathOf("link.sock")} is a symbolic link", link, StringComparison.Ordinal);
        Assert.Equal("precious", File.ReadAllText(PathOf("precious")));
        Assert.Equal(FileKind.Symlink, FileStatus.Of(PathOf("link.sock")).Kind);
    }

    [Fact]
    public void Check_NothingStaleOrLiveSocket_IsNoProblemAndStays()
    {
        var stale = PathOf("stale.sock");
        MakeStaleSocket(stale);
        var livePath = PathOf("live.sock");
        using var live = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        live.Bind(new UnixDomainSocketEndPoint(livePath));
        live.Listen();

        Assert.Null(SocketFile.Check(PathOf("none.sock"), "test socket"));
        Assert.Null(SocketFile.Check(stale, "test socket"));
        Assert.Null(SocketFile.Check(livePath, "test socket"));
        Assert.Equal(FileKind.Socket, FileStatus.Of(stale).Kind);
    }

    [Fact]
    public void ChangeMode_OnASymlink_FailsAndLeavesTheTargetAlone()
    {
        File.WriteAllText(PathOf("target"), "x");
        File.SetUnixFileMode(PathOf("target"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.CreateSymbolicLink(PathOf("link"), PathOf("target"));

        Assert.ThrowsAny<IOException>(() => FileStatus.ChangeMode(PathOf("link"), UnixFileMode.UserRead | UnixFileMode.OtherWrite));

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(PathOf("target")));
    }
}
