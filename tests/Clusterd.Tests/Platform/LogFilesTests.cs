using Clusterd.Platform;

namespace Clusterd.Tests.Platform;

public sealed class LogFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("clusterd-logfiles-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void OpenAppend_Symlink_IsRefusedWithELOOP()
    {
        var path = Path.Combine(_dir, "web.log");
        File.CreateSymbolicLink(path, Path.Combine(_dir, "target"));

        var e = Assert.Throws<ErrnoException>(() => LogFiles.OpenAppend(path));

        Assert.Equal(OperatingSystem.IsMacOS() ? 62 : 40, e.Errno); // ELOOP
        Assert.False(File.Exists(Path.Combine(_dir, "target")));
    }

    [Fact]
    public void Append_ExistingFile_AddsToTheEnd()
    {
        var path = Path.Combine(_dir, "web.log");
        File.WriteAllText(path, "one\n");

        using (var file = LogFiles.OpenAppend(path))
        {
            Assert.Equal(0, LogFiles.Append(file, "two\n"u8));
        }

        Assert.Equal("one\ntwo\n", File.ReadAllText(path));
    }

    [Fact]
    public void Create_ExistingFile_IsRefused()
    {
        var path = Path.Combine(_dir, "web.log.1.gz");
        File.WriteAllText(path, "");

        Assert.Equal(17, Assert.Throws<ErrnoException>(() => LogFiles.Create(path)).Errno); // EEXIST
    }
}
