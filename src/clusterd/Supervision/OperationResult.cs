using Clusterd.Config;

namespace Clusterd.Supervision;

/// <summary>The outcome of an operator's command, as the supervisor loop reports it.</summary>
/// <param name="Code">Null on success; else one of Clusterd.Protocol.ErrorCodes.</param>
internal sealed record OperationResult(string? Code, string Message, ConfigPlan? Plan = null)
{
    public bool Ok => Code is null;

    public static OperationResult Success(string message, ConfigPlan? plan = null) => new(null, message, plan);

    public static OperationResult Error(string code, string message, ConfigPlan? plan = null) => new(code, message, plan);
}
