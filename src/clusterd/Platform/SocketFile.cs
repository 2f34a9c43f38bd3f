using System.Net.Sockets;

namespace Clusterd.Platform;

/// <summary>
/// The files clusterd binds Unix sockets at (the control socket, <c>unix:</c> listeners, notify sockets). clusterd only
/// ever removes a socket file that nobody accepts on: one a crashed clusterd left behind. Anything else at the path (a
/// regular file, a directory, a symbolic link, a live socket) is refused with an error naming it, and left untouched.
/// </summary>
internal static class SocketFile
{
    /// <summary>Makes <paramref name="path"/> free for bind(2). <paramref name="what"/> names it in errors, e.g. "[control] socket".</summary>
    /// <exception cref="IOException">Something that is not a stale socket is there.</exception>
    public static void Claim(string path, string what)
    {
        var status = FileStatus.Of(path);
        if (Problem(status, path, what) is { } problem)
        {
            throw new IOException(problem);
        }
        if (status.Kind == FileKind.Missing)
        {
            return;
        }
        if (LiveHolder(path) is { } holder)
        {
            throw new IOException($"{what} {path} is in use{holder}; stop that process first, or choose another path");
        }
        File.Delete(path); // nobody accepts on it: left behind by a process that died
    }

    /// <summary>
    /// What <see cref="Claim"/> would refuse, found without changing anything (for <c>clusterd --check-config</c>), or
    /// null. A live socket is not a problem here: the check usually runs beside the clusterd that holds it.
    /// </summary>
    public static string? Check(string path, string what) => Problem(FileStatus.Of(path), path, what);

    private static string? Problem(FileStatus status, string path, string what) => status.Kind switch
    {
        FileKind.Missing or FileKind.Socket => null,
        FileKind.Symlink => $"{what} {path} is a symbolic link; clusterd does not follow links where it creates sockets: remove the link or choose another path",
        _ => $"{what} {path} exists and is {status.Describe()}, not a socket; clusterd will not replace it: move it away or choose another path",
    };

    /// <summary>Null if nothing is bound at the socket file; otherwise " by pid N" (or "" when the holder cannot be told).</summary>
    private static string? LiveHolder(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused)
        {
            return null; // a socket file with no socket behind it
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ProtocolType)
        {
            return ""; // bound, but not as a stream socket (a datagram one): alive all the same
        }
        var pid = PeerCredentials.Of(probe).Pid; // 0 where the OS does not say (macOS)
        return pid > 0 ? $" by pid {pid}" : "";
    }
}
