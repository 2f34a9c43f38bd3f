using System.Globalization;
using System.Runtime.Versioning;

namespace Clusterd.Platform;

/// <summary>What /proc says about processes other than clusterd's direct workers: process-group members, orphans.</summary>
[SupportedOSPlatform("linux")]
internal static class ProcessTable
{
    /// <summary>Whether a process that is not a zombie is in process group <paramref name="pgid"/>.</summary>
    public static bool HasLiveMembers(int pgid)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && Stat(pid) is { State: not 'Z' } stat && stat.ProcessGroup == pgid)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Reaps every exited child of clusterd's threads that <paramref name="isTracked"/> does not claim: the descendants
    /// of workers that were handed to clusterd as their subreaper when their parent died. The kernel hands them to the
    /// main thread, which is also the spawner (the thread an upgrade's exec keeps), so they sit next to the workers
    /// and health checks, which clusterd reaps through their pidfds once their trees are gone.
    /// </summary>
    public static int ReapOrphans(Func<int, bool> isTracked)
    {
        var reaped = 0;
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            string children;
            try
            {
                children = File.ReadAllText(Path.Combine(task, "children"));
            }
            catch (IOException)
            {
                continue; // the thread ended meanwhile
            }
            foreach (var child in children.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (int.TryParse(child, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && !isTracked(pid)
                    && Interop.waitpid(pid, out _, Interop.WNOHANG) == pid)
                {
                    reaped++;
                }
            }
        }
        return reaped;
    }

    private static (char State, int ProcessGroup)? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // gone meanwhile
        }
        // "pid (comm) S ppid pgrp ...": comm may hold spaces and parentheses, so parse after the last ')'.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ', 4);
        return fields.Length < 3 ? null : (fields[0][0], int.Parse(fields[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));
    }
}
