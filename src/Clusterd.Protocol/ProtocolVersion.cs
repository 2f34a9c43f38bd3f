namespace Clusterd.Protocol;

/// <summary>The version of the clusterd control protocol spoken by this build.</summary>
public static class ProtocolVersion
{
    public const int Current = 1;
}
