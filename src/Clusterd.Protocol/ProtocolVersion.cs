namespace Clusterd.Protocol;

/// <summary>The control protocol version spoken by this build; it is in every frame header.</summary>
public static class ProtocolVersion
{
    public const ushort Current = 1;
}
