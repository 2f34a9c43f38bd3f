using System.Text;
using Clusterd.Platform;

namespace Clusterd.Tests.Platform;

/// <summary>The request's wire format (docs/adr/0005, "The request"), byte for byte, and what the encoder refuses.</summary>
public sealed class ExecRequestTests
{
    private static readonly ExecRequest s_minimal =
        new(["true"], new Dictionary<string, string>(), null, null, null, null, null, [], null, 42);

    [Fact]
    public void Encode_EveryField_IsTheDocumentedBytes()
    {
        Assert.True(BitConverter.IsLittleEndian, "the expected bytes below are little-endian, like every machine clusterd runs on");
        var request = new ExecRequest(
            ["prog", "a b"], new Dictionary<string, string> { ["K"] = "v=1" }, "/srv", 1000, 100, "app", [100, 27], [7, 8], 9, 4242);

        byte[] body =
        [
            1, 4, 0, 0, 0, .. "prog"u8,
            1, 3, 0, 0, 0, .. "a b"u8,
            2, 5, 0, 0, 0, .. "K=v=1"u8,
            3, 4, 0, 0, 0, .. "/srv"u8,
            4, 4, 0, 0, 0, 0xe8, 0x03, 0, 0,
            5, 4, 0, 0, 0, 100, 0, 0, 0,
            6, 3, 0, 0, 0, .. "app"u8,
            10, 8, 0, 0, 0, 100, 0, 0, 0, 27, 0, 0, 0,
            7, 4, 0, 0, 0, 7, 0, 0, 0,
            7, 4, 0, 0, 0, 8, 0, 0, 0,
            8, 4, 0, 0, 0, 9, 0, 0, 0,
            9, 4, 0, 0, 0, 0x92, 0x10, 0, 0,
        ];
        Assert.Equal([.. "CLXE"u8, 2, 0, 0, 0, (byte)body.Length, 0, 0, 0, .. body], request.Encode());
    }

    [Fact]
    public void Encode_Utf8_IsCountedInBytes()
    {
        var bytes = (s_minimal with { Argv = ["é"] }).Encode();

        Assert.Equal<byte>([1, 2, 0, 0, 0, 0xc3, 0xa9], bytes[12..19]);
    }

    [Fact]
    public void Encode_NoArgv_Throws() =>
        Assert.Throws<ArgumentException>(() => (s_minimal with { Argv = [] }).Encode());

    [Fact]
    public void Encode_EmptyProgram_Throws() =>
        Assert.Throws<ArgumentException>(() => (s_minimal with { Argv = ["", "x"] }).Encode());

    [Theory]
    [InlineData("argv")]
    [InlineData("name")]
    [InlineData("value")]
    [InlineData("cwd")]
    [InlineData("user")]
    public void Encode_NulInAnyString_Throws(string where)
    {
        var request = where switch
        {
            "argv" => s_minimal with { Argv = ["true", "a\0b"] },
            "name" => s_minimal with { Environment = new Dictionary<string, string> { ["A\0"] = "b" } },
            "value" => s_minimal with { Environment = new Dictionary<string, string> { ["A"] = "b\0" } },
            "cwd" => s_minimal with { Cwd = "/tmp\0" },
            _ => s_minimal with { User = "no\0body", Gid = 1 },
        };

        var e = Assert.Throws<ArgumentException>(() => request.Encode());
        Assert.Contains("NUL", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("A=B")]
    public void Encode_VariableNameEmptyOrWithEquals_Throws(string name) =>
        Assert.Throws<ArgumentException>(() => (s_minimal with { Environment = new Dictionary<string, string> { [name] = "x" } }).Encode());

    [Fact]
    public void Encode_SupplementaryGroupsWithoutGroup_Throws() =>
        Assert.Throws<ArgumentException>(() => (s_minimal with { Groups = [27] }).Encode());

    [Fact]
    public void Encode_MoreSupplementaryGroupsThanLinuxAllows_Throws() =>
        Assert.Throws<ArgumentException>(() => (s_minimal with { Gid = 1, Groups = new uint[ExecRequest.MaxGroups + 1] }).Encode());

    [Fact]
    public void Encode_NegativeDescriptor_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => (s_minimal with { Listeners = [-1] }).Encode());
        Assert.Throws<ArgumentOutOfRangeException>(() => (s_minimal with { CgroupFd = -1 }).Encode());
    }

    [Fact]
    public void Encode_NoParent_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => (s_minimal with { ParentPid = 0 }).Encode());

    [Fact]
    public void Encode_BodyOver4MiB_Throws_AndExactly4MiBDoesNot()
    {
        // "true" is a 9-byte record and PARENT another 9; the second argument's record has a 5-byte header.
        var fits = ExecRequest.MaxBodyLength - 9 - 9 - 5;

        Assert.Equal(12 + ExecRequest.MaxBodyLength, (s_minimal with { Argv = ["true", new string('x', fits)] }).Encode().Length);
        var e = Assert.Throws<ArgumentException>(() => (s_minimal with { Argv = ["true", new string('x', fits + 1)] }).Encode());
        Assert.Contains("more than", e.Message, StringComparison.Ordinal);
    }
}
