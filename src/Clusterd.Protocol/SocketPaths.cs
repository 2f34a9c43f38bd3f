namespace Clusterd.Protocol;

/// <summary>Where the control socket is when nothing says otherwise; clusterd and clusterctl agree on it.</summary>
public static class SocketPaths
{
    public const string EnvironmentVariable = "CLUSTERD_SOCKET";
    public const string SystemPath = "/run/clusterd/clusterd.sock";

    /// <summary>/run/clusterd/clusterd.sock as root; else $XDG_RUNTIME_DIR/clusterd.sock, or /tmp/clusterd-USER/clusterd.sock.</summary>
    public static string Default()
    {
        if (Environment.IsPrivilegedProcess)
        {
            return SystemPath;
        }
        var runtimeDir = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        return string.IsNullOrEmpty(runtimeDir)
            ? Path.Combine(Path.GetTempPath(), $"clusterd-{Environment.UserName}", "clusterd.sock")
            : Path.Combine(runtimeDir, "clusterd.sock");
    }
}
