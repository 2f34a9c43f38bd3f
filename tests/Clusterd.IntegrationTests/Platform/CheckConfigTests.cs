using Clusterd.IntegrationTests.Infrastructure;

namespace Clusterd.IntegrationTests.Platform;

public class CheckConfigTests
{
    [Fact]
    public async Task CheckConfig_BrokenFile_PrintsEveryErrorWithLineAndColumn_ExitsOne()
    {
        var path = Path.Combine(Path.GetTempPath(), $"clusterd-broken-{Guid.NewGuid():N}.toml");
        await File.WriteAllTextAsync(path, "[groups.web]\ncommand = [\"/bin/true\"]\nworkers = 0\nlisten = [\"localhost:80\"]\n");
        try
        {
            var (code, _, stderr) = await ClusterdProcess.RunToExitAsync("--check-config", "--config", path);

            Assert.Equal(1, code);
            Assert.Contains($"{path}:3:", stderr, StringComparison.Ordinal);
            Assert.Contains($"{path}:4:", stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task CheckConfig_ShippedExample_IsValid()
    {
        var (code, stdout, stderr) = await ClusterdProcess.RunToExitAsync("--check-config", "--config", Path.Combine(Repo.Root, "etc/clusterd/clusterd.toml"));

        Assert.True(code == 0, stderr);
        Assert.Contains("configuration OK", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckConfig_UnknownUser_IsALocatedError_AsAtStart()
    {
        var path = Path.Combine(Path.GetTempPath(), $"clusterd-user-{Guid.NewGuid():N}.toml");
        await File.WriteAllTextAsync(path, "[groups.web]\ncommand = [\"/bin/true\"]\nuser = \"no-such-user-here\"\n");
        try
        {
            var check = await ClusterdProcess.RunToExitAsync("--check-config", "--config", path);
            var start = await ClusterdProcess.RunToExitAsync("--config", path);

            Assert.Equal(1, check.ExitCode);
            var expected = Native.IsRoot ? $"{path}:3:8: group 'web': 'user' = \"no-such-user-here\": no such user" : $"{path}:3:8: group 'web': 'user' = \"no-such-user-here\" needs clusterd to run as root";
            Assert.Contains(expected, check.Stderr, StringComparison.Ordinal);
            Assert.Equal(1, start.ExitCode);
            Assert.Contains(expected, start.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
