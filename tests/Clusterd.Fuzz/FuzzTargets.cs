using SharpFuzz;

namespace Clusterd.Fuzz;

/// <summary>
/// The fuzz targets, by the name that <c>make fuzz FUZZ_TARGET=NAME</c> and the seed corpus tests/fuzz/corpus/NAME/
/// use. A target hands the input to the code under test and throws if the answer breaks that code's contract; for
/// what arrives from outside (a config file, a control frame) the contract starts with "an answer, never an
/// exception". A new target is one entry here and one corpus folder.
/// </summary>
public static class FuzzTargets
{
    public static IReadOnlyDictionary<string, ReadOnlySpanAction> ByName { get; } = new Dictionary<string, ReadOnlySpanAction>(StringComparer.Ordinal)
    {
        ["config"] = ConfigTarget.Run,
        ["control"] = ControlTarget.Run,
        ["notify"] = NotifyTarget.Run,
    };
}
