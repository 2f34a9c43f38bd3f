namespace Clusterd.Control;

/// <summary>
/// Long answers go out in pages: each frame carries as many items as fit in <see cref="Bytes"/> of JSON, so no answer
/// is too big for a frame however long its list, and a connection holds at most one page at a time. An item that is
/// bigger than a page on its own goes alone; none comes near the frame limit (a log line or a STATUS= text is at most
/// 4 KiB, 24 KiB when every character is escaped).
/// </summary>
internal static class Pages
{
    /// <summary>64 KiB: small enough that 256 connections each sending a page stay in tens of MiB, large enough that
    /// a status of 1000 workers is a handful of frames.</summary>
    public const int Bytes = 64 * 1024;

    /// <summary>Always at least one page, so an empty list is still answered.</summary>
    public static IEnumerable<List<T>> Split<T>(IEnumerable<(T Item, int Size)> items, int budget = Bytes)
    {
        var page = new List<T>();
        var used = 0;
        foreach (var (item, size) in items)
        {
            if (page.Count > 0 && used + size + 1 > budget)
            {
                yield return page;
                page = [];
                used = 0;
            }
            page.Add(item);
            used += size + 1; // and a comma
        }
        yield return page;
    }
}
