using System.Text.Json;
using Clusterd.Control;
using Clusterd.Control.Commands;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;

namespace Clusterd.Tests.Control.Commands;

/// <summary>The size of the status answer: hundreds of workers with 4 KiB STATUS= texts each still come back whole.</summary>
public sealed class StatusCommandTests
{
    private static WorkerStatus Worker(int slot, string? status) =>
        new(slot, 10_000 + slot, PublicWorkerState.Ready, 1, 0, 12.5, null, null, null, 0.25, 20_000_000, status);

    private static GroupStatus Group(string name, int workers, string? status) =>
        new(name, workers, workers, PublicGroupState.Running, 1, ["127.0.0.1:8080"], [.. Enumerable.Range(0, workers).Select(i => Worker(i, status))]);

    private static byte[] Frame(IReadOnlyList<GroupStatus> groups) =>
        JsonSerializer.SerializeToUtf8Bytes(Response.Success(1) with { Cluster = new StatusData(groups), More = true }, ProtocolJsonContext.Default.Response);

    [Fact]
    public void Fragments_HundredsOfWorkersWith4KiBStatus_FitPagesBelowTheFrameLimitAndJoinBackWhole()
    {
        var status = new StatusData([Group("web", 400, new string('<', 4096)), Group("jobs", 2, "idle"), Group("batch", 0, null)]);
        Assert.True(Frame(status.Groups).Length > Framing.MaxPayload, "in one frame the answer would be too big: the test must make pages matter");

        using var sizes = new JsonSize();
        var pages = Pages.Split(StatusCommand.Fragments(status.Groups, sizes)).ToList();

        var envelope = Frame([]).Length;
        Assert.True(pages.Count > 1);
        Assert.All(pages, page => Assert.InRange(Frame(page).Length, 1, envelope + Pages.Bytes));
        var joined = StatusData.Join(pages.Select(p => new StatusData(p)));
        Assert.Equal(["web", "jobs", "batch"], joined.Groups.Select(g => g.Name));
        Assert.Equal(status.Groups.SelectMany(g => g.Workers), joined.Groups.SelectMany(g => g.Workers));
        Assert.Equal(status.Groups.Select(Header), joined.Groups.Select(Header));
    }

    [Fact]
    public void Fragments_SmallGroups_AreWholeAndShareOnePage()
    {
        var groups = new[] { Group("web", 4, "serving"), Group("jobs", 1, null) };

        using var sizes = new JsonSize();
        var pages = Pages.Split(StatusCommand.Fragments(groups, sizes)).ToList();

        var page = Assert.Single(pages);
        Assert.Equal(groups.Select(Header), page.Select(Header));
        Assert.Equal(groups.SelectMany(g => g.Workers), page.SelectMany(g => g.Workers));
    }

    private static string Header(GroupStatus g) => $"{g.Name} {g.Desired} {g.Ready} {g.State} {g.Generation} {string.Join(',', g.Listen)} ({g.Workers.Count > 0})";
}
