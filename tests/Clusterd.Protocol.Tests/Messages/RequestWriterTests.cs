using System.Reflection;
using System.Text;
using System.Text.Json;
using Clusterd.Protocol.Messages;

namespace Clusterd.Protocol.Tests.Messages;

/// <summary>
/// RequestWriter writes what STJ writes, byte for byte. A property added to <see cref="Request"/> fails here until
/// the sample sets it and the writer writes it.
/// </summary>
public sealed class RequestWriterTests
{
    private static readonly Request s_full = new()
    {
        Id = 7,
        Command = "logs \"quoted\"",
        Group = "wéb<>&",
        Slot = 1,
        Count = 4,
        Signal = "SIGHUP",
        Since = 1L << 40,
        Follow = true,
        Lines = 100,
        Stream = "stderr",
        After = new DateTimeOffset(2026, 12, 1, 3, 30, 0, 123, TimeSpan.FromHours(-5)),
        DryRun = true,
        MaxSurge = 2,
        MaxUnavailable = 0,
        Binary = "/usr/bin/clusterd\n",
    };

    public static TheoryData<string> RequestProperties() => [.. typeof(Request).GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name)];

    [Theory]
    [MemberData(nameof(RequestProperties))]
    public void Write_OnlyThisPropertySet_WritesWhatStjWrites(string property)
    {
        var info = typeof(Request).GetProperty(property)!;
        var value = info.GetValue(s_full);
        Assert.True(value is not null && !value.Equals(info.GetValue(new Request())), $"the sample sets no value for Request.{property}: give it one");
        var request = new Request();
        info.SetValue(request, value);

        AssertWritesAsStjDoes(request);
    }

    [Fact]
    public void Write_EveryPropertySet_WritesWhatStjWrites() => AssertWritesAsStjDoes(s_full);

    [Fact]
    public void Write_NothingSet_WritesWhatStjWrites() => AssertWritesAsStjDoes(new Request());

    /// <summary>Each printable ASCII character, which the writer copies unless the default encoder escapes it, and a few others.</summary>
    public static TheoryData<string> Texts() =>
    [
        .. Enumerable.Range(' ', '~' - ' ' + 1).Select(c => $"a{(char)c}b"),
        "tab\there", "\u0000", "\u007f", "é", "日本", "😀", "\ud800 alone", "",
    ];

    [Theory]
    [MemberData(nameof(Texts))]
    public void Write_AnyText_WritesWhatStjWrites(string text)
    {
        var request = new Request { Command = text, Group = text, Signal = text, Stream = text, Binary = text };
        var stj = Record.Exception(() => JsonSerializer.SerializeToUtf8Bytes(request, ProtocolJsonContext.Default.Request));
        if (stj is not null)
        {
            Assert.Equal(stj.GetType(), Record.Exception(() => RequestWriter.Write(request))?.GetType());
            return;
        }
        AssertWritesAsStjDoes(request);
    }

    [Theory]
    [InlineData(0L, 0)]
    [InlineData(long.MinValue, int.MinValue)]
    [InlineData(long.MaxValue, int.MaxValue)]
    public void Write_ExtremeNumbers_WritesWhatStjWrites(long id, int count) =>
        AssertWritesAsStjDoes(new Request { Id = id, Count = count, Since = id, Slot = count });

    [Theory]
    [InlineData("2026-12-01T00:00:00+00:00")]
    [InlineData("2026-12-01T03:30:00.1234567-05:00")]
    [InlineData("9999-12-31T23:59:59.9999999+00:00")]
    public void Write_AnyTime_WritesWhatStjWrites(string after) =>
        AssertWritesAsStjDoes(new Request { After = DateTimeOffset.Parse(after, System.Globalization.CultureInfo.InvariantCulture) });

    private static void AssertWritesAsStjDoes(Request request) =>
        Assert.Equal(
            Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(request, ProtocolJsonContext.Default.Request)),
            Encoding.UTF8.GetString(RequestWriter.Write(request)));
}
