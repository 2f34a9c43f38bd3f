using Clusterd.Platform;

namespace Clusterd.Tests.Platform;

public sealed class RuntimeDirectoryTests : IDisposable
{
    private const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute;

    private readonly string _dir = Directory.CreateTempSubdirectory("clusterd-rundir-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Ensure_Missing_CreatesItWithTheMode()
    {
        var path = Path.Combine(_dir, "run");

        RuntimeDirectory.Ensure(path, Mode, "runtime directory");

        var status = FileStatus.Of(path);
        Assert.Equal((FileKind.Directory, (uint)Mode), (status.Kind, status.Mode));
    }

    [Theory]
    [InlineData(UnixFileMode.GroupWrite, "its group")]
    [InlineData(UnixFileMode.OtherWrite, "everyone")]
    public void Ensure_WritableByOthers_IsRefusedWithTheFix(UnixFileMode extra, string who)
    {
        var path = Path.Combine(_dir, "run");
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, Mode | extra);

        var e = Assert.Throws<IOException>(() => RuntimeDirectory.Ensure(path, Mode, "runtime directory"));

        Assert.Contains($"writable by {who}", e.Message, StringComparison.Ordinal);
        Assert.Contains("chmod go-w", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ensure_StickyAndWorldWritable_IsRefusedAskingForADirectoryOfItsOwn()
    {
        var path = Path.Combine(_dir, "tmp");
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, (UnixFileMode)0b1_111_111_111); // 1777, like /tmp

        var e = Assert.Throws<IOException>(() => RuntimeDirectory.Ensure(path, Mode, "runtime directory"));

        Assert.Contains("shared by every user", e.Message, StringComparison.Ordinal);
        Assert.Contains("a directory of its own", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_UnsafeDirectory_SaysWhatEnsureWouldAndChangesNothing()
    {
        var path = Path.Combine(_dir, "run");
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, Mode | UnixFileMode.GroupWrite);

        var problem = RuntimeDirectory.Check(path, "runtime directory");

        Assert.Contains("writable by its group", problem, StringComparison.Ordinal);
        Assert.Equal(Mode | UnixFileMode.GroupWrite, File.GetUnixFileMode(path));
        Assert.Null(RuntimeDirectory.Check(Path.Combine(_dir, "missing"), "runtime directory"));
        Assert.False(Directory.Exists(Path.Combine(_dir, "missing")));
    }

    [Fact]
    public void Ensure_Symlink_IsRefused()
    {
        var real = Path.Combine(_dir, "real");
        Directory.CreateDirectory(real);
        var link = Path.Combine(_dir, "run");
        Directory.CreateSymbolicLink(link, real);

        var e = Assert.Throws<IOException>(() => RuntimeDirectory.Ensure(link, Mode, "runtime directory"));

        Assert.Contains("is a symbolic link, not a directory", e.Message, StringComparison.Ordinal);
    }
}
