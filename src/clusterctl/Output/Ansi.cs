namespace Clusterctl.Output;

/// <summary>SGR colours for states; applied after alignment so escape codes never count towards a column's width.</summary>
internal static class Ansi
{
    private const string Reset = "\u001b[0m";
    private const string Green = "\u001b[32m";
    private const string Yellow = "\u001b[33m";
    private const string Red = "\u001b[31m";
    private const string Dim = "\u001b[2m";
    private const string Bold = "\u001b[1m";

    public static string ForState(string state) => state switch
    {
        "ready" or "running" => Green,
        "starting" or "draining" or "stopping" or "degraded" or "backoff" => Yellow,
        "failed" => Red,
        "stopped" => Dim,
        _ => "",
    };

    public static string Paint(string text, string sgr, bool enabled) =>
        enabled && sgr.Length > 0 ? sgr + text + Reset : text;

    public static string Strong(string text, bool enabled) => Paint(text, Bold, enabled);
}
