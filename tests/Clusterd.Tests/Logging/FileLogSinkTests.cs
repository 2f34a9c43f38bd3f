using System.IO.Compression;
using Clusterd.Config;
using Clusterd.Logging;
using Clusterd.Tests.Readiness;
using Microsoft.Extensions.Time.Testing;

namespace Clusterd.Tests.Logging;

public sealed class FileLogSinkTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("clusterd-logs-").FullName;
    private readonly LogDrops _drops = new();
    private readonly ListLogger _logger = new();
    private readonly FakeTimeProvider _time = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string LogPath => Path.Combine(_dir, "web.log");

    private FileLogSink Sink(LogsConfig settings, Func<string, Microsoft.Win32.SafeHandles.SafeFileHandle>? open = null) =>
        new(LogPath, settings, _drops, _logger, _time, open);

    private static string Line(int n) => $"line {n:D6} " + new string('x', 1000);

    [Fact]
    public async Task Write_PastMaxSize_RotatesKeepingKeepCompressedFiles()
    {
        var settings = LogsConfig.Default with { MaxSize = LogsConfig.MinMaxSize, Keep = 2, Compress = true };
        var sink = Sink(settings);
        const int Lines = 400; // ~400 KiB: six rotations at 64 KiB

        for (var n = 0; n < Lines; n++)
        {
            sink.Write("web", Line(n), settings);
        }
        await sink.DisposeAsync();

        Assert.Equal(["web.log", "web.log.1.gz", "web.log.2.gz"], Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var older = Gunzip(LogPath + ".2.gz");
        var old = Gunzip(LogPath + ".1.gz");
        var current = File.ReadAllLines(LogPath);
        // Nothing lost between the files that were kept, and the newest line is in the current file.
        string[] kept = [.. older, .. old, .. current];
        var first = int.Parse(kept[0].AsSpan(5, 6), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(Enumerable.Range(first, Lines - first).Select(Line), kept);
        Assert.Equal(0, _drops.Get("web", LogDrops.SlowDisk));
    }

    [Fact]
    public async Task Write_DiskFull_ReportsOnceAndCountsEveryLine()
    {
        var settings = LogsConfig.Default;
        // /dev/full fails every write with ENOSPC, as a full disk does.
        var sink = Sink(settings, _ => File.OpenHandle("/dev/full", FileMode.Open, FileAccess.Write));

        sink.Write("web", "first", settings);
        await WaitUntilAsync(() => _drops.Get("web", LogDrops.DiskFull) == 1);
        sink.Write("web", "second", settings);
        sink.Write("web", "third", settings);
        await sink.DisposeAsync();

        Assert.Equal(3, _drops.Get("web", LogDrops.DiskFull));
        var report = Assert.Single(_logger.WithId(210));
        Assert.Contains("No space left on device", report.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Write_PathIsASymlink_WritesNothingThroughIt()
    {
        var target = Path.Combine(_dir, "elsewhere");
        File.WriteAllText(target, "");
        File.CreateSymbolicLink(LogPath, target);
        var sink = Sink(LogsConfig.Default);

        sink.Write("web", "must not land in the link's target", LogsConfig.Default);
        await sink.DisposeAsync();

        Assert.Equal("", File.ReadAllText(target));
        Assert.Equal(1, _drops.Get("web", LogDrops.FileError));
        Assert.Contains("symbolic links", Assert.Single(_logger.WithId(210)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reopen_AfterExternalMove_WritesANewFile()
    {
        var sink = Sink(LogsConfig.Default);
        sink.Write("web", "before the move", LogsConfig.Default);
        await WaitUntilAsync(() => File.Exists(LogPath) && File.ReadAllText(LogPath).Length > 0);

        File.Move(LogPath, LogPath + ".rotated");
        sink.Reopen();
        sink.Write("web", "after the move", LogsConfig.Default);
        await sink.DisposeAsync();

        Assert.Equal(["before the move"], File.ReadAllLines(LogPath + ".rotated"));
        Assert.Equal(["after the move"], File.ReadAllLines(LogPath));
    }

    [Fact]
    public async Task Write_NewFile_IsCreatedWithMode0640()
    {
        var sink = Sink(LogsConfig.Default);

        sink.Write("web", "hello", LogsConfig.Default);
        await sink.DisposeAsync();

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(LogPath));
    }

    private static string[] Gunzip(string path)
    {
        using var zip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var reader = new StreamReader(zip);
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>The sink writes on its own task: wait for what it did, with a deadline, never for a fixed time.</summary>
    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within 30 s");
            await Task.Delay(10);
        }
    }
}
