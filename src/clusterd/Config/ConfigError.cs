using System.Globalization;

namespace Clusterd.Config;

/// <summary>
/// One located configuration problem. <see cref="Line"/> and <see cref="Column"/> are 1-based, so the
/// <c>FILE:LINE:COL: message</c> form is what editors and compilers use for "jump to error".
/// </summary>
internal sealed record ConfigError(string File, int Line, int Column, string Message)
{
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{File}:{Line}:{Column}: {Message}");
}
