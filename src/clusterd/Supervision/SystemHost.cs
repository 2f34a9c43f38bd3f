using Clusterd.Config;
using Clusterd.Platform;

namespace Clusterd.Supervision;

/// <summary>This machine's answers for <see cref="HostFacts"/>: whether clusterd is root, and what the user database says.</summary>
internal static class SystemHost
{
    public static HostFacts Facts() => new(UserDatabase.IsRoot, UserDatabase.EffectiveUid, CheckUser, CheckGroup);

    private static string? CheckUser(string name)
    {
        try
        {
            return UserDatabase.LookupUser(name) is not null ? null
                : uint.TryParse(name, out _) ? $"uid {name} has no passwd entry, so its group, home and shell are unknown; create the user, or name an existing one"
                : $"no such user; create it (e.g. useradd --system {name}) or fix the name";
        }
        catch (ErrnoException e)
        {
            return $"cannot look the user up ({e.Message}); check the user database (/etc/nsswitch.conf)";
        }
    }

    private static string? CheckGroup(string name)
    {
        try
        {
            return UserDatabase.LookupGroup(name) is not null ? null : $"no such group; create it (e.g. groupadd --system {name}) or fix the name";
        }
        catch (ErrnoException e)
        {
            return $"cannot look the group up ({e.Message}); check the group database (/etc/nsswitch.conf)";
        }
    }
}
