namespace Clusterd.IntegrationTests.Infrastructure;

/// <summary>Finds the programs the tests run: built by the same `dotnet build` as the tests themselves.</summary>
internal static class Repo
{
    public static string Root { get; } = FindRoot();

#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    public static string Clusterd => Built("src/clusterd", "clusterd");

    public static string TestWorker => Built("tests/TestWorker", "testworker");

    public static string Clusterctl => Built("src/clusterctl", "clusterctl");

    public static string Hello => Built("examples/hello", "hello");

    private static string Built(string project, string name)
    {
        var path = Path.Combine(Root, project, "bin", Configuration, "net10.0", name);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing; build the solution first (make build)", path);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "clusterd.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("cannot find clusterd.sln above " + AppContext.BaseDirectory);
    }
}
