namespace Clusterd.IntegrationTests.Infrastructure;

/// <summary>Builds the [groups.NAME] tables the tests run, with fast timings so nothing waits long.</summary>
internal static class Toml
{
    public static string Group(string name, string[] command, int workers = 1, string[]? listen = null, string sharing = "reuseport",
        string ready = "notify", params string[] extra)
    {
        var lines = new List<string>
        {
            $"[groups.{name}]",
            $"command = {ClusterdProcess.Command(command)}",
            $"workers = {workers}",
            $"listen = [{string.Join(", ", (listen ?? []).Select(ClusterdProcess.Quote))}]",
            $"sharing = \"{sharing}\"",
            $"ready = \"{ready}\"",
        };
        if (!extra.Any(e => e.StartsWith("backoff", StringComparison.Ordinal)))
        {
            lines.Add("backoff = { initial = \"50ms\", max = \"1s\", factor = 2.0 }");
        }
        if (!extra.Any(e => e.StartsWith("stop_timeout", StringComparison.Ordinal)))
        {
            lines.Add("stop_timeout = \"5s\"");
        }
        lines.AddRange(extra);
        return string.Join('\n', lines) + "\n";
    }

    public static string[] Worker(params string[] args) => [Repo.TestWorker, .. args];
}
