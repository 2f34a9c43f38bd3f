using Clusterd.Fuzz;

namespace Clusterd.Tests.Fuzz;

/// <summary>
/// Every input of the checked-in seed corpus (tests/fuzz/corpus/TARGET/) through its fuzz target once, without a
/// fuzzer: what `make fuzz` starts from, and what it has found, keeps passing in `make test`.
/// </summary>
public class FuzzCorpusTests
{
    private static readonly string s_corpus = Path.Combine(AppContext.BaseDirectory, "fuzz", "corpus");

    public static TheoryData<string, string> Inputs()
    {
        var data = new TheoryData<string, string>();
        foreach (var target in FuzzTargets.ByName.Keys.Order(StringComparer.Ordinal))
        {
            var folder = Path.Combine(s_corpus, target);
            string[] files = Directory.Exists(folder) ? Directory.GetFiles(folder) : [];
            foreach (var file in files.Order(StringComparer.Ordinal))
            {
                data.Add(target, Path.GetFileName(file));
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Target_CorpusInput_KeepsItsContract(string target, string file) =>
        FuzzTargets.ByName[target](File.ReadAllBytes(Path.Combine(s_corpus, target, file)));

    [Fact]
    public void Corpus_EveryTarget_HasSeeds() =>
        Assert.All(FuzzTargets.ByName.Keys, target =>
            Assert.NotEmpty(Directory.Exists(Path.Combine(s_corpus, target)) ? Directory.GetFiles(Path.Combine(s_corpus, target)) : []));
}
