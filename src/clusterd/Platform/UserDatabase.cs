using System.Runtime.InteropServices;

namespace Clusterd.Platform;

/// <summary>Resolves the configured user and group names to ids, as the worker will run with them.</summary>
internal static class UserDatabase
{
    public static bool IsRoot => Interop.geteuid() == 0;

    /// <summary>The user's uid and primary gid, or null when no such user exists.</summary>
    public static unsafe (uint Uid, uint Gid)? LookupUser(string name)
    {
        if (uint.TryParse(name, out var numeric))
        {
            return (numeric, numeric);
        }
        var buffer = new byte[16384];
        Interop.Passwd pwd;
        Interop.Passwd* result;
        fixed (byte* b = buffer)
        {
            var rc = Interop.getpwnam_r(name, &pwd, b, buffer.Length, &result);
            if (rc != 0 && rc != 2 /* ENOENT: some libcs say "no such user" this way */)
            {
                throw new ErrnoException("getpwnam_r", rc);
            }
        }
        return result is null ? null : (pwd.Uid, pwd.Gid);
    }

    public static unsafe uint? LookupGroup(string name)
    {
        if (uint.TryParse(name, out var numeric))
        {
            return numeric;
        }
        var buffer = new byte[16384];
        Interop.Group grp;
        Interop.Group* result;
        fixed (byte* b = buffer)
        {
            var rc = Interop.getgrnam_r(name, &grp, b, buffer.Length, &result);
            if (rc != 0 && rc != 2)
            {
                throw new ErrnoException("getgrnam_r", rc);
            }
        }
        return result is null ? null : grp.Gid;
    }

    public static uint EffectiveUid => Interop.geteuid();
}
