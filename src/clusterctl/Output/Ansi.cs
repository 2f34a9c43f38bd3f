using Clusterd.Protocol;

namespace Clusterctl.Output;

/// <summary>SGR colours for states; applied after alignment so escape codes never count towards a column's width.</summary>
internal static class Ansi
{
    internal const string Reset = "\u001b[0m";
    private const string Green = "\u001b[32m";
    private const string Yellow = "\u001b[33m";
    private const string Red = "\u001b[31m";
    private const string Dim = "\u001b[2m";
    private const string Bold = "\u001b[1m";

    public static string ForState(PublicWorkerState state) => state switch
    {
        PublicWorkerState.Ready => Green,
        PublicWorkerState.Failed => Red,
        PublicWorkerState.Stopped => Dim,
        _ => Yellow, // on its way somewhere: starting, draining, stopping, backoff
    };

    public static string ForState(PublicGroupState state) => state switch
    {
        PublicGroupState.Running => Green,
        PublicGroupState.Failed => Red,
        PublicGroupState.Stopped => Dim,
        _ => Yellow,
    };

    public static string Paint(string text, string sgr, bool enabled) =>
        enabled && sgr.Length > 0 ? sgr + text + Reset : text;

    public static string Strong(string text, bool enabled) => Paint(text, Bold, enabled);
}
