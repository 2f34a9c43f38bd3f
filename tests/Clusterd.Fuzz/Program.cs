using Clusterd.Fuzz;
using SharpFuzz;

// clusterd's fuzz targets in one program. `Clusterd.Fuzz TARGET` is what the libFuzzer driver starts (make fuzz,
// docs/security.md); `Clusterd.Fuzz TARGET PATH...` runs files, or every file of a folder, through the target once,
// to replay a saved crash.
if (args.Length == 0 || !FuzzTargets.ByName.TryGetValue(args[0], out var target))
{
    Console.Error.WriteLine($"usage: Clusterd.Fuzz TARGET [FILE|FOLDER]...  (targets: {string.Join(", ", FuzzTargets.ByName.Keys)})");
    return 2;
}

if (args.Length == 1)
{
    if (Environment.GetEnvironmentVariable("__LIBFUZZER_SHM_ID") is null)
    {
        Console.Error.WriteLine("not started by the libFuzzer driver (run `make fuzz`); to run inputs once, name them: Clusterd.Fuzz TARGET PATH...");
        return 2;
    }
    // SharpFuzz's side of the driver's protocol: the input in shared memory, its length and our status over pipes.
    Fuzzer.LibFuzzer.Run(target);
    return 0;
}

foreach (var path in args[1..])
{
    string[] files = Directory.Exists(path) ? [.. Directory.GetFiles(path).Order(StringComparer.Ordinal)] : [path];
    foreach (var file in files)
    {
        target(File.ReadAllBytes(file)); // an exception ends the run with its stack trace, as it should
        Console.WriteLine($"ok {file}");
    }
}
return 0;
