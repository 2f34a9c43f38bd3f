using System.Text.Json;
using System.Text.Json.Serialization;
using Clusterd.Protocol;

namespace Clusterd.Supervision.Upgrade;

/// <summary>
/// The state document's bytes: JSON (source-generated, NativeAOT-clean), versioned by one integer. A binary reads its
/// own version and those before it; anything else is refused before anything is torn down
/// (<c>clusterd --check-upgrade VERSION</c> asks exactly that).
/// </summary>
internal static class UpgradeDocument
{
    /// <summary>
    /// What this binary writes. 2: each worker's health watch (<see cref="HealthRecord"/>) and the log book; a version
    /// 1 state has neither. 3: the old binary held open (<see cref="UpgradeState.OldBinaryFd"/>), a descriptor that a
    /// binary reading only 2 would neither close nor mark close-on-exec: it must refuse a version 3 state.
    /// </summary>
    public const int Current = 3;

    /// <summary>
    /// The oldest version this binary reads: each version since added only optional fields, which an older state lacks.
    /// </summary>
    public const int Oldest = 1;

    /// <summary>What this binary reads.</summary>
    public static bool Reads(int version) => version >= Oldest && version <= Current;

    /// <summary>The versions this binary reads, for a refusal.</summary>
    public static string Readable => $"versions {Oldest} to {Current}";

    public static byte[] Serialize(UpgradeState state) => JsonSerializer.SerializeToUtf8Bytes(state, UpgradeJsonContext.Default.UpgradeState);

    /// <exception cref="UpgradeStateException">Not a state document, or one of a version this binary does not read.</exception>
    public static UpgradeState Deserialize(ReadOnlySpan<byte> bytes)
    {
        int version;
        try
        {
            var reader = new Utf8JsonReader(bytes);
            using var document = JsonDocument.ParseValue(ref reader);
            version = document.RootElement.TryGetProperty("version", out var v) && v.TryGetInt32(out var n) ? n : 0;
        }
        catch (JsonException e)
        {
            throw new UpgradeStateException($"the upgrade state is not JSON: {e.Message}");
        }
        if (!Reads(version))
        {
            throw new UpgradeStateException($"the upgrade state is version {version}; this clusterd reads {Readable}");
        }
        try
        {
            return JsonSerializer.Deserialize(bytes, UpgradeJsonContext.Default.UpgradeState)
                ?? throw new UpgradeStateException("the upgrade state is null");
        }
        catch (JsonException e)
        {
            throw new UpgradeStateException($"the upgrade state (version {version}) does not read: {e.Message}");
        }
    }
}

/// <summary>The state cannot be read: the upgrade must fall back to the binary that wrote it.</summary>
internal sealed class UpgradeStateException(string message) : IOException(message);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    RespectRequiredConstructorParameters = true, // every field is written, nulls too: a missing one is a broken state
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(UpgradeState))]
[JsonSerializable(typeof(LifecycleEvent))]
internal sealed partial class UpgradeJsonContext : JsonSerializerContext;
