using System.Runtime.InteropServices;

namespace Clusterd.Platform;

/// <summary>A user as the passwd database has it: what a worker runs as, and what its environment says it is.</summary>
internal sealed record UserIdentity(string Name, uint Uid, uint Gid, string Home, string Shell);

/// <summary>
/// Resolves the configured user and group names to ids, as the worker will run with them. These calls may go to NSS
/// (LDAP, sssd) and take their time: clusterd makes them on the spawner thread, never on the supervisor loop.
/// </summary>
internal static class UserDatabase
{
    private const int ENOENT = 2;
    private const int ERANGE = 34;

    /// <summary>Entries bigger than this (a group with tens of thousands of members) are refused, not chased forever.</summary>
    private const int MaxBuffer = 1 << 20;

    public static bool IsRoot => Interop.geteuid() == 0;

    public static uint EffectiveUid => Interop.geteuid();

    /// <summary>
    /// The user's passwd entry, by name or by numeric uid, or null when there is none. A numeric uid takes its entry's
    /// primary group; a uid with no entry is refused (as systemd does for <c>User=</c>): it would otherwise run with a
    /// guessed gid.
    /// </summary>
    /// <exception cref="ErrnoException">The lookup itself failed (NSS unreachable, an entry too large).</exception>
    public static unsafe UserIdentity? LookupUser(string nameOrUid)
    {
        var numeric = uint.TryParse(nameOrUid, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var uid);
        return WithBuffer(numeric ? "getpwuid_r" : "getpwnam_r", (buffer, length) =>
        {
            Interop.Passwd pwd;
            Interop.Passwd* result;
            var rc = numeric
                ? Interop.getpwuid_r(uid, &pwd, buffer, length, &result)
                : Interop.getpwnam_r(nameOrUid, &pwd, buffer, length, &result);
            return (rc, result is null ? null : Identity(pwd));
        });
    }

    /// <summary>The group's gid, by name; a numeric gid is taken as it is.</summary>
    public static unsafe uint? LookupGroup(string nameOrGid)
    {
        if (uint.TryParse(nameOrGid, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var numeric))
        {
            return numeric;
        }
        return WithBuffer<uint?>("getgrnam_r", (buffer, length) =>
        {
            Interop.Group grp;
            Interop.Group* result;
            var rc = Interop.getgrnam_r(nameOrGid, &grp, buffer, length, &result);
            return (rc, result is null ? null : grp.Gid);
        });
    }

    /// <summary>
    /// The groups <c>initgroups(user, gid)</c> would give the worker: <paramref name="gid"/> and every group that lists
    /// <paramref name="user"/>. Resolved here, so that the exec helper, which links statically, needs no NSS.
    /// </summary>
    public static unsafe uint[] SupplementaryGroups(string user, uint gid)
    {
        var size = 64;
        while (true)
        {
            var groups = new uint[size];
            var found = size;
            fixed (uint* g = groups)
            {
                if (Interop.getgrouplist(user, gid, g, &found) >= 0)
                {
                    return groups[..found];
                }
            }
            if (size == ExecRequest.MaxGroups)
            {
                throw new ErrnoException("getgrouplist", ERANGE);
            }
            // -1: more than fit. glibc says how many in `found`; macOS does not, so double as well.
            size = Math.Min(ExecRequest.MaxGroups, Math.Max(found, size * 2));
        }
    }

    private unsafe delegate (int Rc, T Result) Lookup<T>(byte* buffer, nint length);

    /// <summary>Runs a *_r lookup with a buffer that grows on ERANGE, as the man pages ask.</summary>
    private static unsafe T? WithBuffer<T>(string call, Lookup<T> lookup)
    {
        for (var size = 16384; ; size *= 2)
        {
            var buffer = new byte[size];
            fixed (byte* b = buffer)
            {
                var (rc, result) = lookup(b, buffer.Length);
                if (rc == ERANGE && size < MaxBuffer)
                {
                    continue;
                }
                if (rc != 0 && rc != ENOENT) // some libcs say "no such entry" with ENOENT
                {
                    throw new ErrnoException(call, rc);
                }
                return rc == 0 ? result : default;
            }
        }
    }

    private static UserIdentity Identity(in Interop.Passwd pwd)
    {
        // struct passwd after pw_gid: Linux gecos, dir, shell; macOS change, class, gecos, dir, shell, expire.
        var (dir, shell) = OperatingSystem.IsMacOS() ? (pwd.Rest3, pwd.Rest4) : (pwd.Rest1, pwd.Rest2);
        return new UserIdentity(
            Marshal.PtrToStringUTF8(pwd.Name) ?? "",
            pwd.Uid,
            pwd.Gid,
            Marshal.PtrToStringUTF8(dir) is { Length: > 0 } home ? home : "/",
            Marshal.PtrToStringUTF8(shell) is { Length: > 0 } sh ? sh : "/bin/sh");
    }
}
