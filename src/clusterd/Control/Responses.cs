using Clusterd.Config;
using Clusterd.Protocol.Messages;
using Clusterd.Supervision;

namespace Clusterd.Control;

internal static class Responses
{
    public static Response From(long id, OperationResult result) => result.Ok
        ? Response.Success(id, result.Message) with { Plan = ToWire(result.Plan) }
        : Response.Failure(id, result.Code!, result.Message) with { Plan = ToWire(result.Plan) };

    public static ReloadPlan? ToWire(ConfigPlan? plan) => plan is null
        ? null
        : new ReloadPlan(
            plan.Added.Select(g => g.Name).ToArray(),
            plan.Removed,
            plan.Changed.Select(c => new GroupChange(c.Config.Name, c.Changes, c.Rolls)).ToArray(),
            plan.Unchanged,
            plan.Notes);

    public static Response MissingField(long id, string field, string example) =>
        Response.Failure(id, Clusterd.Protocol.ErrorCodes.BadRequest, $"'{field}' is required, e.g. {example}");
}
