using System.Text.Json;

namespace Clusterd.Protocol.Tests;

public sealed class PublicStatesTests
{
    public static TheoryData<PublicWorkerState> WorkerStates() => [.. PublicStates.Workers];

    public static TheoryData<PublicGroupState> GroupStates() => [.. Enum.GetValues<PublicGroupState>()];

    [Theory]
    [MemberData(nameof(WorkerStates))]
    public void Name_WorkerState_IsTheNameStjWrites(PublicWorkerState state) =>
        Assert.Equal(JsonSerializer.Serialize(state, ProtocolJsonContext.Default.PublicWorkerState), $"\"{state.Name()}\"");

    [Theory]
    [MemberData(nameof(GroupStates))]
    public void Name_GroupState_IsTheNameStjWrites(PublicGroupState state) =>
        Assert.Equal(JsonSerializer.Serialize(state, ProtocolJsonContext.Default.PublicGroupState), $"\"{state.Name()}\"");

    [Fact]
    public void StateNames_EveryState_HasOneNameEach()
    {
        Assert.Equal(Enum.GetValues<PublicWorkerState>().Length, StateNames.Workers.Length);
        Assert.Equal(Enum.GetValues<PublicGroupState>().Length, StateNames.Groups.Length);
    }

    [Fact]
    public void Name_UndefinedState_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ((PublicWorkerState)99).Name());
        Assert.Throws<ArgumentOutOfRangeException>(() => ((PublicGroupState)(-1)).Name());
    }
}
