namespace Clusterd.Control;

/// <summary>Why a connection was refused; <see cref="FirstInARow"/> is false while the same uid keeps being refused (log it once).</summary>
internal readonly record struct Refusal(string Message, bool FirstInARow);

/// <summary>
/// How many control connections each peer may hold at once. Everyone shares <see cref="Total"/>; a reader (a uid with
/// read access only) may hold <see cref="PerReader"/> and never the last <see cref="AdminReserve"/>, so no number of
/// readers' connections, idle or following a stream for hours, keeps an administrator out. Administrators are bound
/// by the total only: they may stop clusterd anyway. Peers with no access at all are refused before they count.
/// </summary>
internal sealed class ConnectionLimits
{
    public const int Total = 256;
    public const int AdminReserve = 16;
    public const int PerReader = 32;

    private readonly Dictionary<uint, int> _readers = [];
    private readonly HashSet<uint> _refused = [];
    private readonly Lock _lock = new();
    private int _open;

    /// <returns>Null when admitted (then <see cref="Release"/> it when it closes); otherwise the refusal.</returns>
    public Refusal? TryAdmit(uint uid, AccessLevel access)
    {
        lock (_lock)
        {
            var why = Refuse(uid, access);
            if (why is not null)
            {
                return new Refusal(why, _refused.Add(uid));
            }
            if (access != AccessLevel.Admin)
            {
                _readers[uid] = _readers.GetValueOrDefault(uid) + 1;
            }
            _open++;
            _refused.Remove(uid);
            return null;
        }
    }

    public void Release(uint uid, AccessLevel access)
    {
        lock (_lock)
        {
            _open--;
            _refused.Remove(uid);
            if (access != AccessLevel.Admin && --_readers[uid] == 0)
            {
                _readers.Remove(uid);
            }
        }
    }

    private string? Refuse(uint uid, AccessLevel access)
    {
        if (_open >= Total)
        {
            return $"clusterd serves at most {Total} control connections at once; try again";
        }
        if (access == AccessLevel.Admin)
        {
            return null;
        }
        if (_readers.GetValueOrDefault(uid) >= PerReader)
        {
            return $"uid {uid} already holds {PerReader} control connections, the most a reader may; close some (a forgotten `clusterctl logs --follow`?)";
        }
        return _open >= Total - AdminReserve
            ? $"clusterd serves at most {Total - AdminReserve} readers' connections at once (the other {AdminReserve} are kept for administrators); try again"
            : null;
    }
}
