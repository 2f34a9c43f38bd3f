using System.Text.Json;
using Clusterd.Control;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;

namespace Clusterd.Tests.Control;

public sealed class PagesTests
{
    private static readonly DateTimeOffset s_t0 = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>What a frame weighs beyond its list: the same frame with the list empty.</summary>
    private static int Envelope(Response empty) => JsonSerializer.SerializeToUtf8Bytes(empty with { More = true }, ProtocolJsonContext.Default.Response).Length;

    [Fact]
    public void Split_NoItems_IsOneEmptyPage()
    {
        var pages = Pages.Split(Array.Empty<(int, int)>()).ToList();

        Assert.Single(pages);
        Assert.Empty(pages[0]);
    }

    [Fact]
    public void Split_ItemsOfKnownSizes_FillsEachPageUpToTheBudgetAndKeepsTheOrder()
    {
        var items = Enumerable.Range(0, 10).Select(i => (i, 29)).ToList(); // 30 bytes each with the comma

        var pages = Pages.Split(items, budget: 100).ToList();

        Assert.Equal([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]], pages);
    }

    [Fact]
    public void Split_AnItemBiggerThanAPage_GoesAlone()
    {
        var pages = Pages.Split([(1, 10), (2, 500), (3, 10)], budget: 100).ToList();

        Assert.Equal([[1], [2], [3]], pages);
    }

    [Fact]
    public void JsonSize_Of_IsTheSerializedLength()
    {
        var line = new LogLine(7, s_t0, "web", 1, 4242, "stdout", new string('<', 4000) + "é\u001b");

        using var sizes = new JsonSize();
        var size = sizes.Of(line, ProtocolJsonContext.Default.LogLine);

        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(line, ProtocolJsonContext.Default.LogLine).Length, size);
        Assert.True(size > 6 * 4000, "'<' is escaped to six bytes; the size must count them");
    }

    [Fact]
    public void Split_AThousandLinesOf4000LessThanSigns_GivesFramesWithinAPageThatHoldEveryLine()
    {
        var lines = Enumerable.Range(0, 1000).Select(i => new LogLine(i, s_t0, "web", 0, 4242, "stdout", new string('<', 4000))).ToList();
        using var sizes = new JsonSize();
        var envelope = Envelope(Response.Success(1) with { Logs = [] });
        Assert.True(JsonSerializer.SerializeToUtf8Bytes(Response.Success(1) with { Logs = lines }, ProtocolJsonContext.Default.Response).Length > Framing.MaxPayload,
            "in one frame the answer would be too big: the test must make pages matter");

        var pages = Pages.Split(lines.Select(l => (l, sizes.Of(l, ProtocolJsonContext.Default.LogLine)))).ToList();

        Assert.True(pages.Count > 1);
        Assert.All(pages, page => Assert.InRange(
            JsonSerializer.SerializeToUtf8Bytes(Response.Success(1) with { Logs = page, More = true }, ProtocolJsonContext.Default.Response).Length,
            1, envelope + Pages.Bytes));
        Assert.Equal(lines, pages.SelectMany(p => p));
    }
}
