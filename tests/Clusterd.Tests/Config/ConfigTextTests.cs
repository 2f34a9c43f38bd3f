using System.Text;
using Clusterd.Config;

namespace Clusterd.Tests.Config;

public class ConfigTextTests
{
    private static (bool Ok, string Text, SourcePosition Position, string Error) Decode(byte[] bytes)
    {
        var ok = ConfigText.TryDecode(bytes, out var text, out var position, out var error);
        return (ok, text, position, error);
    }

    private static byte[] Bytes(params object[] parts) =>
        parts.SelectMany(p => p switch
        {
            string s => Encoding.UTF8.GetBytes(s),
            byte[] b => b,
            _ => throw new ArgumentException($"not a part: {p}"),
        }).ToArray();

    [Fact]
    public void TryDecode_Utf8_ReturnsTheText()
    {
        var result = Decode(Bytes("[groups.café]\n# ünïcödé 😀\n"));

        Assert.True(result.Ok, result.Error);
        Assert.Equal("[groups.café]\n# ünïcödé 😀\n", result.Text);
    }

    [Fact]
    public void TryDecode_LeadingBom_IsDropped()
    {
        var result = Decode(Bytes(new byte[] { 0xEF, 0xBB, 0xBF }, "a = 1\n"));

        Assert.True(result.Ok, result.Error);
        Assert.Equal("a = 1\n", result.Text);
    }

    [Theory]
    [InlineData(new byte[] { 0xE9 }, "0xE9")] // Latin-1 é
    [InlineData(new byte[] { 0xC0, 0xAF }, "0xC0")] // overlong '/'
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, "0xED")] // a UTF-16 surrogate, encoded
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 }, "0xF4")] // beyond U+10FFFF
    [InlineData(new byte[] { 0x80 }, "0x80")] // a continuation byte with nothing to continue
    public void TryDecode_InvalidSequence_ReportsItsFirstByteAtLineAndColumn(byte[] invalid, string shown)
    {
        // Columns count code points, as Tomlyn's do: "é" and "😀" are one column each.
        var result = Decode(Bytes("[groups.web]\n", "user = \"é😀", invalid, "\"\n"));

        Assert.False(result.Ok);
        Assert.Equal(new SourcePosition(2, 11), result.Position);
        Assert.Equal($"invalid UTF-8 (byte {shown}); clusterd reads the config as UTF-8 only, so save the file as UTF-8", result.Error);
    }

    [Fact]
    public void TryDecode_SequenceCutShortAtEndOfFile_IsReported()
    {
        var result = Decode(Bytes("a = 1\n# ", new byte[] { 0xE2, 0x82 }));

        Assert.False(result.Ok);
        Assert.Equal(new SourcePosition(2, 3), result.Position);
        Assert.StartsWith("invalid UTF-8 (byte 0xE2)", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryDecode_ExactlyTheLimit_IsRead()
    {
        var bytes = Bytes("#", new string('x', ConfigText.MaxBytes - 2), "\n");

        Assert.True(Decode(bytes).Ok);
    }

    [Fact]
    public void TryDecode_OneByteOverTheLimit_IsRefusedAtLineOne()
    {
        var result = Decode(new byte[ConfigText.MaxBytes + 1]);

        Assert.False(result.Ok);
        Assert.Equal(SourcePosition.Start, result.Position);
        Assert.Equal("the file is larger than 1 MiB, the most clusterd reads; a config is a few KiB, so check that this is the config file", result.Error);
    }

    [Fact]
    public void Load_HugeFile_IsOneErrorAndReadsNoMoreThanTheLimit()
    {
        // /dev/zero never ends: reading it whole would never return.
        var result = ConfigLoader.Load("/dev/zero");

        var error = Assert.Single(result.Errors);
        Assert.Equal("/dev/zero:1:1: the file is larger than 1 MiB, the most clusterd reads; a config is a few KiB, so check that this is the config file", error.ToString());
    }

    [Fact]
    public void Parse_InvalidUtf8Bytes_IsLocatedErrorNotReplacementCharacter()
    {
        var result = ConfigLoader.Parse(Bytes("[groups.web]\ncommand = [\"/srv/caf", new byte[] { 0xE9 }, "\"]\n"), "clusterd.toml", AvailableCpus.Assumed(8));

        Assert.Null(result.Config);
        Assert.Equal("clusterd.toml:2:21: invalid UTF-8 (byte 0xE9); clusterd reads the config as UTF-8 only, so save the file as UTF-8",
            Assert.Single(result.Errors).ToString());
    }

    [Fact]
    public void Parse_BomBeforeAnError_PositionsAsWithout()
    {
        var result = ConfigLoader.Parse(Bytes(new byte[] { 0xEF, 0xBB, 0xBF }, "[groups.web]\ncommand = [\"/bin/app\"]\nworkers = 0\n"), "clusterd.toml", AvailableCpus.Assumed(8));

        var error = Assert.Single(result.Errors);
        Assert.Equal((3, 11), (error.Line, error.Column));
    }

    [Theory]
    [InlineData("a = [[[1]]]\n", 3, null)]
    [InlineData("a = [[[1]]]\n", 2, "1:7")]
    [InlineData("a = [[[1]]]\n", 1, "1:6")]
    [InlineData("a = [{ b = [1] }]\n", 2, "1:12")]
    [InlineData("a = [\n  [\n    [1],\n  ],\n]\n", 2, "3:5")]
    [InlineData("[[t]]\n[a.b]\nx = [[1]]\n", 1, "3:6")] // headers do not nest
    [InlineData("x = \"[[[[\"\ny = '[[[['\n# [[[[\nz = [1]\n", 1, null)] // nor do strings and comments
    [InlineData("x = \"\"\"\n[[[[\\\"\"\"\"\ny = [[1]]\n", 1, "3:6")] // a multi-line string, with an escaped quote
    [InlineData("x = '''\n[[[[\\'''\ny = [[1]]\n", 1, "3:6")] // a literal one: no escapes, so \ ends nothing
    [InlineData("x = \"😀\" ; y = [[1]]\n", 1, "1:16")] // an emoji is one column
    public void FindNestingDeeperThan_Text_FindsTheFirstBracketOverTheLimit(string text, int max, string? expected)
    {
        var position = ConfigText.FindNestingDeeperThan(text, max);

        Assert.Equal(expected, position is { } p ? $"{p.Line}:{p.Column}" : null);
    }
}
