using System.Diagnostics;
using Clusterd.Platform;

namespace Clusterd.Tests.Platform;

public sealed class UserDatabaseTests
{
    /// <summary>What the exec helper sets instead of calling initgroups: the same list <c>id -G</c> shows, for every user here.</summary>
    [Fact]
    public async Task SupplementaryGroups_EveryUserOfThisHost_AreWhatIdSays()
    {
        var users = File.ReadAllLines("/etc/passwd").Select(line => line.Split(':')).Where(f => f.Length > 3).ToList();
        Assert.NotEmpty(users);

        foreach (var fields in users)
        {
            var groups = UserDatabase.SupplementaryGroups(fields[0], uint.Parse(fields[3], System.Globalization.CultureInfo.InvariantCulture));

            var expected = await IdGroupsAsync(fields[0]);
            Assert.True(expected.SequenceEqual(groups.Order()), $"{fields[0]}: id -G says {string.Join(' ', expected)}, getgrouplist {string.Join(' ', groups)}");
        }
    }

    private static async Task<uint[]> IdGroupsAsync(string user)
    {
        using var id = Process.Start(new ProcessStartInfo("/usr/bin/id", ["-G", user]) { RedirectStandardOutput = true })!;
        var output = await id.StandardOutput.ReadToEndAsync();
        await id.WaitForExitAsync();
        Assert.Equal(0, id.ExitCode);
        return output.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(uint.Parse).Distinct().Order().ToArray();
    }
}
