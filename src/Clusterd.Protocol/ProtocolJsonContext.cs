using System.Text.Json.Serialization;
using Clusterd.Protocol.Messages;

namespace Clusterd.Protocol;

/// <summary>Source-generated (NativeAOT-clean) JSON for every message; snake_case on the wire.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(Request))]
[JsonSerializable(typeof(Response))]
[JsonSerializable(typeof(StatusData))]
[JsonSerializable(typeof(GroupStatus))]
[JsonSerializable(typeof(WorkerStatus))]
[JsonSerializable(typeof(LifecycleEvent))]
[JsonSerializable(typeof(LogLine))]
[JsonSerializable(typeof(ReloadPlan))]
public sealed partial class ProtocolJsonContext : JsonSerializerContext;
