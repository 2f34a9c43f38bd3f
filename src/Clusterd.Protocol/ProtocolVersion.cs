namespace Clusterd.Protocol;

/// <summary>
/// The control protocol version spoken by this build; it is in every frame header, and either side refuses another.
/// 2: long answers (status, logs, events) may span several frames, each a page below the frame limit (docs/protocol.md).
/// </summary>
public static class ProtocolVersion
{
    public const ushort Current = 2;
}
