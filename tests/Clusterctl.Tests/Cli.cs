namespace Clusterctl.Tests;

/// <summary>
/// Runs clusterctl in-process through <see cref="Program.RunAsync(string[], TextWriter, TextWriter, TextReader, CancellationToken)"/>,
/// on a thread-pool thread (<see cref="OffTheTestThread"/>).
/// </summary>
internal static class Cli
{
    /// <summary>
    /// clusterctl's round trip on the local socket blocks (Clusterd.Protocol.Platform.LocalSocketStream), as a one-shot process may. In
    /// a test it must block neither xunit's few test threads nor the thread pool: the fake daemons' continuations run
    /// there, and with every pool thread blocked in a clusterctl they waited for the pool to grow (a second and more, so
    /// a completion's 1 s deadline ran out in CI). So each run gets a thread of its own.
    /// </summary>
    public static Task<int> OffTheTestThread(Func<Task<int>> run) =>
        Task.Factory.StartNew(() => run().GetAwaiter().GetResult(), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    public sealed record Result(int ExitCode, string Out, string Err);

    public static async Task<Result> RunAsync(params string[] args) => await RunWithInputAsync("", CancellationToken.None, args);

    public static async Task<Result> RunWithInputAsync(string stdin, CancellationToken cancellationToken, params string[] args)
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };
        using var input = new StringReader(stdin);
        var code = await OffTheTestThread(() => Program.RunAsync(args, stdout, stderr, input, cancellationToken));
        return new Result(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>As if stdout were a terminal: what an operator at a prompt sees.</summary>
    public static async Task<Result> RunAtTerminalAsync(params string[] args)
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };
        await using var cli = new CliContext(stdout, stderr, () => TextReader.Null, stdoutIsTerminal: true, stdinIsTerminal: false);
        var code = await OffTheTestThread(() => Program.RunAsync(args, cli, CancellationToken.None));
        return new Result(code, stdout.ToString(), stderr.ToString());
    }
}
