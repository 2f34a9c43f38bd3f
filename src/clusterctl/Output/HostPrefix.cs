using System.Text;
using System.Text.Json;

namespace Clusterctl.Output;

/// <summary>
/// How a read command's output from several hosts is told apart: every line starts with its host, padded so that the
/// hosts' own columns still line up (<c>web1:22  web  running  2/2 ready</c>), and every JSON object gains a "host"
/// field first (<c>{"host":"web1:22","groups":[...]}</c>), so <c>jq 'select(.host == ...)'</c> and awk both work.
/// </summary>
internal static class HostPrefix
{
    public static string Apply(string text, string host, int width, bool json, string newLine)
    {
        if (text.Length == 0)
        {
            return text;
        }
        var field = $"{{\"host\":\"{JsonEncodedText.Encode(host)}\"";
        var prefixed = new StringBuilder(text.Length + 64);
        var lines = text.Split(newLine);
        // A text that ends with a newline splits into one more, empty, piece: it is not a line of its own.
        foreach (var line in text.EndsWith(newLine, StringComparison.Ordinal) ? lines[..^1] : lines)
        {
            if (json && line.StartsWith('{'))
            {
                prefixed.Append(field).Append(line.AsSpan(1).StartsWith("}") ? "" : ",").Append(line.AsSpan(1));
            }
            else
            {
                prefixed.Append(host.PadRight(width)).Append("  ").Append(line);
            }
            prefixed.Append(newLine);
        }
        return prefixed.ToString();
    }
}
