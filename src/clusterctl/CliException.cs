namespace Clusterctl;

/// <summary>
/// A failure with a message meant for the user and the exit code it maps to. Everything the user can cause or
/// fix ends up as one of these; anything else that escapes a command is a bug and exits with <see cref="ExitCodes.Internal"/>.
/// </summary>
internal sealed class CliException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
