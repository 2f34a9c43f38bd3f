using Clusterd.Config;
using Clusterd.Platform;

namespace Clusterd.Control;

internal enum AccessLevel { None, Read, Admin }

/// <summary>
/// Who may do what, from the peer's kernel-reported credentials: root, clusterd's own user and members of
/// <c>admin_group</c> may run every command; members of <c>read_group</c> may only read; anyone else is refused.
/// </summary>
internal sealed class ControlAccess
{
    private readonly uint _ownUid;
    private readonly uint? _adminGid;
    private readonly uint? _readGid;

    public ControlAccess(uint ownUid, uint? adminGid, uint? readGid)
    {
        _ownUid = ownUid;
        _adminGid = adminGid;
        _readGid = readGid;
    }

    /// <summary>Resolves the configured group names; an unknown group is an error at start, not a silent lock-out.</summary>
    public static ControlAccess From(ControlConfig config)
    {
        static uint? Resolve(string? name, string key) => name is null
            ? null
            : UserDatabase.LookupGroup(name) ?? throw new IOException($"[control] {key} = \"{name}\": no such group; create it (e.g. groupadd {name}) or remove the key");
        return new ControlAccess(UserDatabase.EffectiveUid, Resolve(config.AdminGroup, "admin_group"), Resolve(config.ReadGroup, "read_group"));
    }

    public AccessLevel LevelOf(PeerCredentials peer)
    {
        if (peer.Uid == 0 || peer.Uid == _ownUid || (_adminGid is uint admin && peer.IsInGroup(admin)))
        {
            return AccessLevel.Admin;
        }
        return _readGid is uint read && peer.IsInGroup(read) ? AccessLevel.Read : AccessLevel.None;
    }
}
