namespace Clusterd.Platform;

/// <summary>
/// The path clusterd's executable is installed as: what an upgrade execs by default, and where clusterd-exec is. That
/// is <see cref="Environment.ProcessPath"/>, except in an image an upgrade's fallback exec'd through a descriptor after
/// a package had renamed another file over its path (docs/adr/0008): /proc/self/exe then reads "PATH (deleted)", which
/// the runtime cannot resolve, so the process path is null and the app's base directory empty, and the path comes
/// from the upgrade state instead.
/// </summary>
internal static class OwnExecutable
{
    private static string? s_installedAs;

    public static string? Path => Volatile.Read(ref s_installedAs) ?? Environment.ProcessPath;

    /// <summary>
    /// This image runs the binary that was at <paramref name="path"/> when it was started, whatever is there now. Where
    /// the runtime lost its own path, its base directory becomes that path's (the host's content root, and where
    /// <see cref="ExecHelper"/> looks for clusterd-exec): the key a .NET host sets it by.
    /// </summary>
    public static void InstalledAs(string path)
    {
        Volatile.Write(ref s_installedAs, path);
        if (Environment.ProcessPath is null && System.IO.Path.GetDirectoryName(path) is { Length: > 0 } directory)
        {
            AppContext.SetData("APP_CONTEXT_BASE_DIRECTORY", System.IO.Path.EndsInDirectorySeparator(directory) ? directory : directory + "/");
        }
    }
}
