using System.Diagnostics;

namespace TestWorker;

/// <summary>
/// What the worker's health looks like from outside: <c>/healthz</c> answers 503 until <c>--health-after</c>, 500 from
/// <c>--serve-500-after</c> and while the file <c>--unhealthy-if-file</c> exists, 200 otherwise (each logged, so tests see which worker and which listener a probe reached);
/// <c>--allocate-mib-per-second</c> leaks memory like a worker with a bug.
/// </summary>
internal static class Health
{
    private static readonly Stopwatch s_since = Stopwatch.StartNew();
    private static readonly List<byte[]> s_leaked = [];

    public static int? HealthyAfterMs { get; set; }

    public static int? FailAfterMs { get; set; }

    public static string? FailIfFile { get; set; }

    /// <summary>The status /healthz answers now; logged with the listener it came in on.</summary>
    public static int Status(string listener)
    {
        var elapsed = s_since.ElapsedMilliseconds;
        var status = elapsed < HealthyAfterMs ? 503 : elapsed >= FailAfterMs || (FailIfFile is not null && File.Exists(FailIfFile)) ? 500 : 200;
        Console.Out.WriteLine($"testworker pid={Environment.ProcessId} healthz on {listener}: {status}");
        return status;
    }

    /// <summary>Allocates and touches <paramref name="mib"/> MiB every second, and never lets go of it.</summary>
    public static void Leak(int mib)
    {
        var thread = new Thread(() =>
        {
            while (true)
            {
                var block = new byte[mib << 20];
                Array.Fill(block, (byte)1); // touched, so it is resident
                s_leaked.Add(block);
                Thread.Sleep(1000);
            }
        }) { IsBackground = true, Name = "leak" };
        thread.Start();
    }
}
