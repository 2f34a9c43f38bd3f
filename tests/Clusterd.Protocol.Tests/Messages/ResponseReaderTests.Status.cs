using System.Reflection;
using System.Text;
using System.Text.Json;
using Clusterd.Protocol.Messages;

namespace Clusterd.Protocol.Tests.Messages;

/// <summary>
/// The status payload, read by hand: a constructor parameter added to <see cref="StatusData"/>, <see cref="GroupStatus"/>
/// or <see cref="WorkerStatus"/> fails here, naming it, until the sample sets it and the reader reads it.
/// </summary>
public sealed partial class ResponseReaderTests
{
    private static readonly WorkerStatus s_worker = new(3, 1234, PublicWorkerState.Backoff, 7, 2, 12.5, "exit 1", 1, 9, 0.75,
        52_428_800, "serving", "fail", 0.125, "connect: refused\n");

    private static readonly GroupStatus s_group = new("web", 4, 3, PublicGroupState.Degraded, 7, ["127.0.0.1:8080", "[::1]:8080"],
        [s_worker, s_worker with { Slot = 4, State = PublicWorkerState.Ready }], "auto: cgroup CPU quota", 2, s_time);

    /// <summary>Every optional field null, as from a clusterd that predates them or a worker without a process.</summary>
    private static readonly GroupStatus s_bareGroup = new("jobs ✓", 1, 0, PublicGroupState.Starting, 1, [],
        [new WorkerStatus(0, 0, PublicWorkerState.Starting, 1, 0, null, null, null, null, null, null, null)]);

    public static TheoryData<string> StatusDataParameters() => Parameters<StatusData>();

    public static TheoryData<string> GroupStatusParameters() => Parameters<GroupStatus>();

    public static TheoryData<string> WorkerStatusParameters() => Parameters<WorkerStatus>();

    public static TheoryData<PublicGroupState> GroupStates() => [.. Enum.GetValues<PublicGroupState>()];

    public static TheoryData<PublicWorkerState> WorkerStates() => [.. PublicStates.Workers];

    [Theory]
    [MemberData(nameof(StatusDataParameters))]
    public void Read_OnlyThisStatusDataPropertySet_ReadsWhatStjReads(string parameter) =>
        AssertReadsAsStjDoes(Cluster(OnlyProperty(new StatusData([s_group]), parameter)));

    [Theory]
    [MemberData(nameof(GroupStatusParameters))]
    public void Read_OnlyThisGroupPropertySet_ReadsWhatStjReads(string parameter) =>
        AssertReadsAsStjDoes(Cluster($$"""{"groups":[{{OnlyProperty(s_group, parameter)}}]}"""));

    [Theory]
    [MemberData(nameof(WorkerStatusParameters))]
    public void Read_OnlyThisWorkerPropertySet_ReadsWhatStjReads(string parameter) =>
        AssertReadsAsStjDoes(Cluster($$"""{"groups":[{"workers":[{{OnlyProperty(s_worker, parameter)}}]}]}"""));

    [Fact]
    public void Read_SeveralGroupsEveryFieldSet_ReadsWhatStjReadsAndWhatWasWritten()
    {
        var status = new StatusData([s_group, s_bareGroup, s_group with { Name = "api", State = PublicGroupState.Failed }]);
        var payload = Serialize(new Response { Id = 5, Ok = true, More = true, Cluster = status });

        AssertReadsAsStjDoes(payload);
        Assert.Equal(Encoding.UTF8.GetString(payload), Encoding.UTF8.GetString(Serialize(ResponseReader.Read(payload))));
    }

    [Fact]
    public void Read_EveryOptionalFieldNull_ReadsWhatStjReads() =>
        AssertReadsAsStjDoes(Serialize(new Response { Cluster = new StatusData([s_bareGroup]) }));

    [Theory]
    [MemberData(nameof(GroupStates))]
    public void Read_GroupState_ReadsWhatStjReads(PublicGroupState state) =>
        AssertReadsAsStjDoes(Serialize(new Response { Cluster = new StatusData([s_bareGroup with { State = state }]) }));

    [Theory]
    [MemberData(nameof(WorkerStates))]
    public void Read_WorkerState_ReadsWhatStjReads(PublicWorkerState state) =>
        AssertReadsAsStjDoes(Serialize(new Response { Cluster = new StatusData([s_group with { Workers = [s_worker with { State = state }] }]) }));

    [Theory]
    [InlineData("""{"groups":null}""")]
    [InlineData("""{"groups":[],"groups":[{"name":"b"}],"$id":"1","Groups":7}""")]
    [InlineData("""{"groups":[null,{},{"workers":[null,{}]}]}""")]
    [InlineData("""{"groups":[{"listen":[null,"x"],"listen":["y"],"workers":null}]}""")]
    [InlineData("""{"groups":[{"name":"a","name":"b","Name":"c","na\u006de":"d","$type":"x","$ref":"1"}]}""")]
    [InlineData("""{"groups":[{"name":null,"listen":null,"workers_source":null,"required_ready":null,"stats_read_at":null}]}""")]
    [InlineData("""{"groups":[{"desired":-0,"ready":2147483647,"generation":-2147483648,"required_ready":0}]}""")]
    [InlineData("""{"groups":[{"unknown":{"deep":[1,{"state":"nope"}]},"state":"failed"}]}""")]
    [InlineData("""{"groups":[{"workers":[{"slot":1,"slot":2,"pid":3,"extra":[],"state":"ready","state":"failed"}]}]}""")]
    [InlineData("""{"groups":[{"workers":[{"uptime_seconds":null,"last_exit":null,"last_exit_code":null,"last_exit_signal":null,"cpu_seconds":null,"rss_bytes":null,"status":null,"health":null,"health_latency_seconds":null,"health_failure":null}]}]}""")]
    [InlineData("""{"groups":[{"workers":[{"uptime_seconds":1e400,"cpu_seconds":-1e400,"health_latency_seconds":1E-400}]}]}""")]
    [InlineData("""{"groups":[{"workers":[{"uptime_seconds":-0.0,"cpu_seconds":123456789012345678901234567890,"health_latency_seconds":0.1e-5}]}]}""")]
    [InlineData("""{"groups":[{"workers":[{"rss_bytes":9223372036854775807,"last_exit_code":-2147483648,"last_exit_signal":2147483647}]}]}""")]
    [InlineData("""{"groups":[{"workers":[{"status":"\u00e9\n\u001b[31m","health":"\ud83d\ude00"}]}]}""")]
    public void Read_UnusualButValidStatus_ReadsWhatStjReads(string cluster) => AssertReadsAsStjDoes(Cluster(cluster));

    [Theory]
    [InlineData("\"running\"")]
    [InlineData("\"ru\\u006ening\"")]
    [InlineData("\" running\"")]
    [InlineData("\"running\\n\"")]
    [InlineData("\"\\u00a0running\\u3000\"")]
    [InlineData("\"\\u2028running\\t\"")]
    [InlineData("\"1\"")]
    [InlineData("\" -1 \"")]
    [InlineData("\"+4\"")]
    [InlineData("\"0007\"")]
    [InlineData("\"-0\"")]
    [InlineData("\"2147483647\"")]
    [InlineData("\"-2147483648\"")]
    [InlineData("\"1\\n\"")]
    [InlineData("\"running,degraded\"")]
    [InlineData("\"degraded,starting\"")]
    [InlineData("\"running ,  degraded ,\"")]
    [InlineData("\"failed,failed\"")]
    [InlineData("\"stopped,failed\"")]
    [InlineData("\"running, \"")]
    [InlineData("1")]
    [InlineData("99")]
    [InlineData("-5")]
    [InlineData("-0")]
    [InlineData("2147483647")]
    public void Read_GroupStateAsStjAlsoTakesIt_ReadsWhatStjReads(string state) =>
        AssertReadsAsStjDoes(Cluster($$"""{"groups":[{"state":{{state}}}]}"""));

    [Theory]
    [InlineData("\"ready,draining\"")]
    [InlineData("\"stopped,failed,backoff\"")]
    [InlineData("\"ready,\"")]
    [InlineData("\"\\u00a0ready\"")]
    [InlineData("\"+1\"")]
    public void Read_WorkerStateAsStjAlsoTakesIt_ReadsWhatStjReads(string state) =>
        AssertReadsAsStjDoes(Cluster($$"""{"groups":[{"workers":[{"state":{{state}}}]}]}"""));

    /// <summary>clusterd writes the first form; the others are what the reader's ISO 8601 parser also takes.</summary>
    [Theory]
    [InlineData("2026-12-01T03:30:00.1234567+00:00")]
    [InlineData("2026-12-01T03:30:00+01:00")]
    [InlineData("2026-12-01T03:30:00.0000000+00:00")]
    [InlineData("2026-12-01T03:30:00Z")]
    [InlineData("2026-12-01T03:30:00.1Z")]
    [InlineData("2026-12-01T03:30:00.12345678901Z")]
    [InlineData("2026-12-01T03:30:00.Z")]
    [InlineData("2026-12-01T03:30:00")]
    [InlineData("2026-12-01T03:30")]
    [InlineData("2026-12-01")]
    [InlineData("2026-12-01T03:30:00+01")]
    [InlineData("2026-12-01T03:30:00-00:00")]
    [InlineData("2026-12-01T03:30:00\\u002B01:00")]
    [InlineData("2028-02-29T23:59:59.9999999-14:00")]
    public void Read_StatsReadAtAsStjTakesIt_ReadsWhatStjReads(string time) =>
        AssertReadsAsStjDoes(Cluster($$"""{"groups":[{"stats_read_at":"{{time}}"}]}"""));

    [Theory]
    [InlineData("2026-12-01 03:30:00Z")]
    [InlineData("2026-12-01t03:30:00Z")]
    [InlineData("2026-12-01T03:30:00z")]
    [InlineData(" 2026-12-01T03:30:00Z")]
    [InlineData("2026-12-01T03:30:00+00:00 ")]
    [InlineData("2026-12-01T03:30:00,5Z")]
    [InlineData("2026-12-01T03:30:00+0100")]
    [InlineData("2026-12-01T03:30:00+14:01")]
    [InlineData("2026-13-01T03:30:00Z")]
    [InlineData("2026-02-29T03:30:00Z")]
    [InlineData("2026-12-01T24:00:00Z")]
    [InlineData("2026-12-01T03:30:60Z")]
    [InlineData("2026-12-01T03Z")]
    [InlineData("2026-12")]
    [InlineData("20261201T033000Z")]
    [InlineData("0001-01-01T00:00:00+01:00")]
    [InlineData("9999-12-31T23:59:59-01:00")]
    [InlineData("yesterday")]
    [InlineData("")]
    public void Read_StatsReadAtStjRefuses_IsABadFrame(string time) =>
        AssertRefusedAsStjRefuses(Cluster($$"""{"groups":[{"stats_read_at":"{{time}}"}]}"""));

    [Theory]
    [InlineData("\"Running\"")]
    [InlineData("\"RUNNING\"")]
    [InlineData("\"\\u0052unning\"")]
    [InlineData("\"Running,degraded\"")]
    [InlineData("\"running\\u0000\"")]
    [InlineData("\"running\\u200b\"")]
    [InlineData("\"\"")]
    [InlineData("\" \"")]
    [InlineData("\",\"")]
    [InlineData("\",running\"")]
    [InlineData("\"running,,degraded\"")]
    [InlineData("\"running,1\"")]
    [InlineData("\"1,2\"")]
    [InlineData("\"+\"")]
    [InlineData("\"- 1\"")]
    [InlineData("\"0x1\"")]
    [InlineData("\"1.0\"")]
    [InlineData("\"\\u0661\"")]
    [InlineData("\"\\uff11\"")]
    [InlineData("\"99999999999\"")]
    [InlineData("\"\\ud800\"")]
    [InlineData("\"nope\"")]
    [InlineData("1.0")]
    [InlineData("1e0")]
    [InlineData("99999999999")]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("{}")]
    [InlineData("[\"running\"]")]
    public void Read_GroupStateStjRefuses_IsABadFrame(string state) =>
        AssertRefusedAsStjRefuses(Cluster($$"""{"groups":[{"state":{{state}}}]}"""));

    [Theory]
    [InlineData("\"Ready\"")]
    [InlineData("\"Ready,Draining\"")]
    [InlineData("\"\\u017Ftopped\"")]
    [InlineData("\"running\"")]
    public void Read_WorkerStateStjRefuses_IsABadFrame(string state) =>
        AssertRefusedAsStjRefuses(Cluster($$"""{"groups":[{"workers":[{"state":{{state}}}]}]}"""));

    [Theory]
    [InlineData("[]")]
    [InlineData("1")]
    [InlineData("\"x\"")]
    [InlineData("true")]
    [InlineData("""{"groups":{}}""")]
    [InlineData("""{"groups":"x"}""")]
    [InlineData("""{"groups":[1]}""")]
    [InlineData("""{"groups":[[]]}""")]
    [InlineData("""{"groups":[{"name":1}]}""")]
    [InlineData("""{"groups":[{"name":{}}]}""")]
    [InlineData("""{"groups":[{"desired":1.0}]}""")]
    [InlineData("""{"groups":[{"desired":1e2}]}""")]
    [InlineData("""{"groups":[{"desired":"1"}]}""")]
    [InlineData("""{"groups":[{"desired":null}]}""")]
    [InlineData("""{"groups":[{"ready":2147483648}]}""")]
    [InlineData("""{"groups":[{"generation":true}]}""")]
    [InlineData("""{"groups":[{"listen":{}}]}""")]
    [InlineData("""{"groups":[{"listen":[1]}]}""")]
    [InlineData("""{"groups":[{"listen":"127.0.0.1:80"}]}""")]
    [InlineData("""{"groups":[{"workers_source":2}]}""")]
    [InlineData("""{"groups":[{"required_ready":1.5}]}""")]
    [InlineData("""{"groups":[{"required_ready":"1"}]}""")]
    [InlineData("""{"groups":[{"stats_read_at":1}]}""")]
    [InlineData("""{"groups":[{"stats_read_at":true}]}""")]
    [InlineData("""{"groups":[{"stats_read_at":{}}]}""")]
    [InlineData("""{"groups":[{"workers":{}}]}""")]
    [InlineData("""{"groups":[{"workers":[1]}]}""")]
    [InlineData("""{"groups":[{"workers":[[]]}]}""")]
    [InlineData("""{"groups":[{"workers":[{"slot":null}]}]}""")]
    [InlineData("""{"groups":[{"workers":[{"pid":"1"}]}]}""")]
    [InlineData("""{"groups":[{"workers":[{"restarts":0.5}]}]}""")]
    [InlineData("""{"groups":[{"workers":[{"uptime_seconds":"NaN"}]}]}""")]
    [InlineData("""{"groups":[{"workers":[{"uptime_seconds":"1"}]}]}""")]
    [InlineData("""{"groups":[{"workers":[{"cpu_seconds":true}]}]}""")]
    [InlineData("""{"groups":[{"workers":[{"rss_bytes":9223372036854775808}]}]}""")]
    [InlineData("""{"groups":[{"workers":[{"rss_bytes":1.0}]}]}""")]
    [InlineData("""{"groups":[{"workers":[{"last_exit_code":-2147483649}]}]}""")]
    [InlineData("""{"groups":[{"workers":[{"last_exit_signal":"9"}]}]}""")]
    [InlineData("""{"groups":[{"workers":[{"last_exit":1}]}]}""")]
    [InlineData("""{"groups":[{"workers":[{"health":1}]}]}""")]
    [InlineData("""{"groups":[{"workers":[{"health_latency_seconds":"1"}]}]}""")]
    [InlineData("""{"groups":[{"workers":[{"health_failure":[]}]}]}""")]
    [InlineData("""{"groups":[{"workers":[{"status":false}]}]}""")]
    public void Read_MalformedStatus_IsABadFrameWhereStjFails(string cluster) => AssertRefusedAsStjRefuses(Cluster(cluster));

    [Theory]
    [InlineData("""{"cluster":{"groups":[{"name":"a""")]
    [InlineData("""{"cluster":{"groups":[{"state":"runn""")]
    [InlineData("""{"cluster":{"groups":[{"workers":[{"slot":1""")]
    [InlineData("""{"cluster":{"groups":[{"workers":[{"slot":1}""")]
    [InlineData("""{"cluster":{"groups":[{"workers":[{"slot":1}]}]""")]
    [InlineData("""{"cluster":{"groups":[{"stats_read_at":""")]
    public void Read_TruncatedStatus_IsABadFrame(string json) => AssertRefusedAsStjRefuses(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Read_InvalidUtf8InAState_IsABadFrame() =>
        AssertRefusedAsStjRefuses([.. """{"cluster":{"groups":[{"state":"running"""u8, 0xff, .. "\"}]}}"u8]);

    [Fact]
    public void Read_InvalidUtf8InAGroupName_IsABadFrame() =>
        AssertRefusedAsStjRefuses([.. """{"cluster":{"groups":[{"name":"web"""u8, 0xc3, .. "\"}]}}"u8]);

    private static byte[] Cluster(string cluster) => Encoding.UTF8.GetBytes($$"""{"id":1,"ok":true,"cluster":{{cluster}}}""");

    /// <summary>The names of a record's constructor parameters, as STJ binds them to properties.</summary>
    private static TheoryData<string> Parameters<T>() =>
        [.. typeof(T).GetConstructors().Single().GetParameters().Select(p => p.Name!)];

    /// <summary>A JSON object with one property of <paramref name="sample"/>, as STJ writes it, and nothing else.</summary>
    private static string OnlyProperty<T>(T sample, string parameter)
    {
        var value = typeof(T).GetProperty(parameter, BindingFlags.Public | BindingFlags.Instance)!.GetValue(sample);
        Assert.True(value is not null && !(value is ValueType && value.Equals(Activator.CreateInstance(value.GetType()))), $"the sample sets no value for {typeof(T).Name}.{parameter}: give it one");
        var name = JsonNamingPolicy.SnakeCaseLower.ConvertName(parameter);
        using var written = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(sample, s_written.GetTypeInfo(typeof(T))!));
        return $$"""{"{{name}}":{{written.RootElement.GetProperty(name).GetRawText()}}}""";
    }
}
