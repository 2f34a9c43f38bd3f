using System.Runtime.InteropServices;

namespace Clusterd.Platform;

/// <summary>
/// clusterd as a container's PID 1 (docs/adr/0007-clusterd-as-a-container-init.md). .NET as PID 1 reaps every child on
/// SIGCHLD (waitpid(-1)), which would take the workers' exit statuses before clusterd reads them through their pidfds.
/// So clusterd, finding itself PID 1, becomes <c>clusterd-exec --init</c> (same pid) and that starts clusterd again as
/// its only child, with <c>--container</c>: PID 1 reaps orphans and forwards signals, clusterd supervises.
/// </summary>
internal static class ContainerInit
{
    public const string ContainerFlag = "--container";

    public static bool IsPid1 => Interop.getpid() == 1;

    /// <summary>The argv of the init: <c>clusterd-exec --init -- CLUSTERD [the .dll] --container ARGS...</c>.</summary>
    public static IReadOnlyList<string> InitArgv(string helper, string clusterd, string? assembly, IReadOnlyList<string> args) =>
        [helper, "--init", "--", clusterd, .. assembly is null ? [] : new[] { assembly }, ContainerFlag, .. args];

    /// <summary>Becomes the init; returns only by throwing: no helper, or <c>execv</c> failed.</summary>
    public static void BecomeInit(IReadOnlyList<string> args)
    {
        var helper = ExecHelper.Locate()
            ?? throw new InvalidOperationException($"clusterd is PID 1 and needs {ExecHelper.FileName} as the container's init, but it is not installed next to clusterd");
        var clusterd = Environment.ProcessPath ?? throw new InvalidOperationException("clusterd cannot find its own executable to run it under the init");
        // Under `dotnet clusterd.dll` the host needs the app again; a NativeAOT clusterd is the executable itself.
        var assembly = Path.GetFileNameWithoutExtension(clusterd) == "dotnet" ? Environment.GetCommandLineArgs()[0] : null;
        Exec(InitArgv(helper, clusterd, assembly, args));
    }

    private static unsafe void Exec(IReadOnlyList<string> argv)
    {
        var pointers = new byte*[argv.Count + 1]; // NULL-terminated
        for (var i = 0; i < argv.Count; i++)
        {
            pointers[i] = (byte*)Marshal.StringToCoTaskMemUTF8(argv[i]);
        }
        try
        {
            fixed (byte** a = pointers)
            {
                _ = Interop.execv(a[0], a);
                throw ErrnoException.FromLastError("execv");
            }
        }
        finally
        {
            for (var i = 0; i < argv.Count; i++)
            {
                Marshal.FreeCoTaskMem((nint)pointers[i]);
            }
        }
    }
}
