namespace Clusterd.Protocol;

/// <summary>A frame or message that breaks the protocol; <see cref="Code"/> is one of <see cref="ErrorCodes"/>.</summary>
public sealed class ProtocolException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
