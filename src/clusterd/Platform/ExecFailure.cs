using System.Globalization;

namespace Clusterd.Platform;

/// <summary>
/// What clusterd-exec said instead of becoming the worker: its line <c>"&lt;exit-code&gt; &lt;errno&gt; &lt;message&gt;"</c>
/// (docs/adr/0005, "What it says"). The exit code names the step, systemd's way; the errno says whether trying again
/// can help (<see cref="Transient"/>).
/// </summary>
internal sealed record ExecFailure(int ExitCode, int Errno, string Message)
{
    // The same numbers on Linux and Darwin; EAGAIN is not (Constants.EAgain).
    private const int ENOMEM = 12;
    private const int ENFILE = 23;
    private const int EMFILE = 24;
    private const int ETXTBSY = 26;

    /// <summary>A failure that can pass by itself, so the slot backs off and retries instead of failing for good.</summary>
    public bool Transient => IsTransient(Errno);

    /// <summary>
    /// Out of processes (EAGAIN: RLIMIT_NPROC, which execve checks after the uid change, or a fork limit), descriptors
    /// (EMFILE, ENFILE) or memory (ENOMEM), or an executable being written (ETXTBSY: a deploy copying it in place).
    /// A missing program, user or directory, or a refused permission, stays so until someone changes something.
    /// </summary>
    public static bool IsTransient(int errno) =>
        errno == Constants.EAgain || errno is ENOMEM or ENFILE or EMFILE or ETXTBSY;

    /// <summary>
    /// Parses what the helper wrote before it exited. Text of any other shape (which would be a bug) is kept whole as
    /// the message of a setup failure with no errno: not transient.
    /// </summary>
    public static ExecFailure Parse(string text)
    {
        var line = text.EndsWith('\n') ? text[..^1] : text;
        var parts = line.Split(' ', 3);
        return parts.Length == 3
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var exitCode)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var errno)
            ? new ExecFailure(exitCode, errno, parts[2])
            : new ExecFailure(ExecHelper.ExitSetup, 0, $"clusterd-exec said something unexpected: '{line}'");
    }

    public override string ToString() => $"{Message} (exit code {ExitCode}, errno {Errno})";
}
