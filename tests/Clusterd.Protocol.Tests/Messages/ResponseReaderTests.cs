using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Clusterd.Protocol.Messages;

namespace Clusterd.Protocol.Tests.Messages;

/// <summary>
/// ResponseReader is a second reader of what STJ reads: these keep the two in step. A property added to
/// <see cref="Response"/> or <see cref="ErrorInfo"/> fails here until the sample sets it and the reader reads it.
/// </summary>
public sealed partial class ResponseReaderTests
{
    private static readonly DateTimeOffset s_time = new(2026, 12, 1, 3, 30, 0, TimeSpan.FromHours(1));

    /// <summary>Writes what was read, infinities included (a number too large for a double reads as one).</summary>
    private static readonly ProtocolJsonContext s_written = new(new JsonSerializerOptions(ProtocolJsonContext.Default.Options)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    });

    private static readonly Response s_full = new()
    {
        Id = 42,
        Ok = true,
        Error = new ErrorInfo("not_found", "no group \"web\"\n"),
        More = true,
        Message = "pong ✓",
        Cluster = new StatusData([new GroupStatus("web", 2, 1, PublicGroupState.Degraded, 3, ["127.0.0.1:8080"],
            [new WorkerStatus(0, 100, PublicWorkerState.Ready, 3, 1, 2.5, "exit 1", 1, null, 0.25, 4096, "ok", "pass", 0.001, null)],
            "config", 1, s_time)]),
        Events = [new LifecycleEvent(7, s_time, LifecycleEventKinds.Exit, "web", 0, 100, 3, ExitReasons.Crashed, 1, null, 0.5)],
        Logs = [new LogLine(9, s_time, "web", 0, 100, "stdout", "hello")],
        Plan = new ReloadPlan(["a"], ["b"], [new GroupChange("web", ["workers: 2 -> 4"], false)], ["c"], ["note"]),
        ConfigErrors = ["clusterd.toml:1:1: bad", null!],
        Version = new VersionInfo("1.2.3", 2, 1, s_time, "why not"),
    };

    public static TheoryData<string> ResponseProperties() => [.. typeof(Response).GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name)];

    public static TheoryData<string> ErrorInfoProperties() => [.. typeof(ErrorInfo).GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name)];

    [Theory]
    [MemberData(nameof(ResponseProperties))]
    public void Read_OnlyThisPropertySet_ReadsWhatStjReads(string property)
    {
        var info = typeof(Response).GetProperty(property)!;
        var value = info.GetValue(s_full);
        Assert.True(value is not null && !value.Equals(info.GetValue(new Response())), $"the sample sets no value for Response.{property}: give it one");
        var response = new Response();
        info.SetValue(response, value);

        AssertReadsAsStjDoes(Serialize(response));
    }

    [Theory]
    [MemberData(nameof(ErrorInfoProperties))]
    public void Read_ErrorInfoProperty_ReadsWhatStjReads(string property)
    {
        Assert.NotNull(typeof(ErrorInfo).GetProperty(property)!.GetValue(s_full.Error));

        var read = ResponseReader.Read(Serialize(new Response { Error = s_full.Error }));

        Assert.Equal(s_full.Error, read.Error);
    }

    [Fact]
    public void Read_EveryPropertySet_ReadsWhatStjReads() => AssertReadsAsStjDoes(Serialize(s_full));

    [Theory]
    [InlineData("""{"id":1,"id":2,"ok":false,"ok":true}""")]
    [InlineData("""{"error":{"code":"a","code":"b","message":"m"}}""")]
    [InlineData("""{"unknown":{"x":[1,{"y":null}]},"ok":true,"also":"skipped","cluster":{"groups":[],"extra":1}}""")]
    [InlineData("""{"message":null,"error":null,"config_errors":null,"cluster":null,"events":null,"logs":null,"plan":null,"version":null}""")]
    [InlineData("""{"error":{}}""")]
    [InlineData("""{"Ok":true,"ID":3}""")]
    [InlineData(""" {"message":"\u00e9\n"} """)]
    [InlineData("{}")]
    public void Read_UnusualButValidJson_ReadsWhatStjReads(string json) => AssertReadsAsStjDoes(Encoding.UTF8.GetBytes(json));

    [Theory]
    [InlineData("")]
    [InlineData("""{"id":1,"ok":tru""")]
    [InlineData("""{"id":1,"ok":true""")]
    [InlineData("""{"id":1,"ok":true,"cluster":{"groups":[""")]
    [InlineData("""{"ok":"yes"}""")]
    [InlineData("""{"ok":null}""")]
    [InlineData("""{"id":"1"}""")]
    [InlineData("""{"id":1.5}""")]
    [InlineData("""{"id":99999999999999999999}""")]
    [InlineData("""{"more":1}""")]
    [InlineData("""{"message":3}""")]
    [InlineData("""{"error":[]}""")]
    [InlineData("""{"error":{"code":1}}""")]
    [InlineData("""{"config_errors":[1]}""")]
    [InlineData("""{"config_errors":"x"}""")]
    [InlineData("""{"cluster":{"groups":"x"}}""")]
    [InlineData("""{"events":{}}""")]
    [InlineData("""{"version":{"started_at":"yesterday"}}""")]
    [InlineData("[]")]
    [InlineData("1")]
    [InlineData("\"ok\"")]
    [InlineData("{} {}")]
    [InlineData("""{"ok":true,}""")]
    [InlineData("""{"ok":true /* c */}""")]
    [InlineData("{'ok':true}")]
    public void Read_MalformedResponse_IsABadFrameWhereStjFails(string json) => AssertRefusedAsStjRefuses(Encoding.UTF8.GetBytes(json));

    [Theory]
    [InlineData(65)]
    [InlineData(100_000)]
    public void Read_NestedDeeperThanStjAllows_IsABadFrame(int depth) =>
        AssertRefusedAsStjRefuses(Encoding.UTF8.GetBytes($"{{\"junk\":{new string('[', depth)}{new string(']', depth)}}}"));

    [Fact]
    public void Read_InvalidUtf8InAString_IsABadFrame() =>
        AssertRefusedAsStjRefuses([.. """{"message":" """u8, 0xff, 0xfe, .. "\"}"u8]);

    [Fact]
    public void Read_Null_IsAnEmptyResponse()
    {
        Assert.Null(JsonSerializer.Deserialize("null"u8, ProtocolJsonContext.Default.Response));

        var e = Assert.Throws<ProtocolException>(() => ResponseReader.Read("null"u8));

        Assert.Equal(ErrorCodes.BadFrame, e.Code);
        Assert.Equal("empty response", e.Message);
    }

    private static byte[] Serialize(Response response) => JsonSerializer.SerializeToUtf8Bytes(response, s_written.Response);

    /// <summary>Records hold lists by reference, so what was read is compared by how STJ writes it.</summary>
    private static void AssertReadsAsStjDoes(byte[] payload)
    {
        var expected = JsonSerializer.Deserialize(payload, ProtocolJsonContext.Default.Response)!;

        var actual = ResponseReader.Read(payload);

        Assert.Equal(Encoding.UTF8.GetString(Serialize(expected)), Encoding.UTF8.GetString(Serialize(actual)));
    }

    private static void AssertRefusedAsStjRefuses(byte[] payload)
    {
        Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize(payload, ProtocolJsonContext.Default.Response));

        var e = Assert.Throws<ProtocolException>(() => ResponseReader.Read(payload));

        Assert.Equal(ErrorCodes.BadFrame, e.Code);
        Assert.StartsWith("malformed response: ", e.Message, StringComparison.Ordinal);
    }
}
