using System.Globalization;
using System.Runtime.CompilerServices;

namespace Clusterctl.Output;

/// <summary>The short human forms used in tables: they must be stable, since people grep them and the tests pin them.</summary>
internal static class Formats
{
    public const string None = "-";

    private static readonly string[] s_binaryUnits = ["KiB", "MiB", "GiB", "TiB"];

    private static readonly string[] s_signalNames =
    [
        "0", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1",
        "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP",
        "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
    ];

    /// <summary>An integer, invariant.</summary>
    public static ReadOnlySpan<char> Integer(long value, Span<char> scratch) => Written(scratch, CultureInfo.InvariantCulture, $"{value}");

    /// <summary>Uptime as its two largest units: 45s, 3m12s, 2h05m, 3d04h.</summary>
    public static ReadOnlySpan<char> Uptime(double? seconds, Span<char> scratch)
    {
        if (seconds is not { } value || value < 0 || double.IsNaN(value))
        {
            return None;
        }
        var total = (long)value;
        var (d, h, m, s) = (total / 86400, total / 3600 % 24, total / 60 % 60, total % 60);
        var invariant = CultureInfo.InvariantCulture;
        return d > 0 ? Written(scratch, invariant, $"{d}d{h:D2}h")
            : h > 0 ? Written(scratch, invariant, $"{h}h{m:D2}m")
            : m > 0 ? Written(scratch, invariant, $"{m}m{s:D2}s")
            : Written(scratch, invariant, $"{s}s");
    }

    /// <summary>Bytes in binary units with one decimal: 512 B, 1.5 KiB, 24.1 MiB, 1.2 GiB.</summary>
    /// <remarks>
    /// The tenths are counted in integers: the table's 1000 RSS cells, written twice each, were a tenth of clusterctl's
    /// CPU through double formatting. What "0.0" wrote for the double (its 15 significant digits, rounded half away from
    /// zero) is the exact value rounded half up, as long as it has at most 30 bits after the point (below 1 TiB): it
    /// is then never within 10^-11 of a tie without being one. FormatsTests compares the two over a million sizes.
    /// </remarks>
    public static ReadOnlySpan<char> Bytes(long? bytes, Span<char> scratch)
    {
        if (bytes is not { } value || value < 0)
        {
            return None;
        }
        if (value < 1024)
        {
            return Written(scratch, CultureInfo.InvariantCulture, $"{value} B");
        }
        var unit = 0;
        while (value >= 1024L << (10 * (unit + 1)) && unit < s_binaryUnits.Length - 1)
        {
            unit++;
        }
        var shift = 10 * (unit + 1);
        if (shift > 30)
        {
            var scaled = value / Math.Pow(1024, unit + 1);
            return Written(scratch, CultureInfo.InvariantCulture, $"{scaled:0.0} {s_binaryUnits[unit]}");
        }
        var tenths = ((value * 10) + (1L << (shift - 1))) >> shift;
        return Written(scratch, CultureInfo.InvariantCulture, $"{tenths / 10}.{tenths % 10} {s_binaryUnits[unit]}");
    }

    /// <summary>CPU time in seconds, two decimals: 1.25s.</summary>
    public static ReadOnlySpan<char> CpuSeconds(double? seconds, Span<char> scratch)
    {
        if (seconds is not { } value)
        {
            return None;
        }
        var hundredths = Hundredths(value);
        return hundredths >= 0
            ? Written(scratch, CultureInfo.InvariantCulture, $"{hundredths / 100}.{hundredths % 100:D2}s")
            : Written(scratch, CultureInfo.InvariantCulture, $"{value:0.00}s");
    }

    /// <summary>
    /// <paramref name="value"/> in hundredths, rounded as the custom format "0.00" rounds it; -1 where that cannot be
    /// made sure of (left to the format). The format takes the double's 15 significant digits, correctly rounded, and
    /// rounds those half away from zero. The conversion to decimal takes 15 significant digits too, not always
    /// correctly rounded; but a decimal of 15 digits that converts back to the same double is the correctly rounded one
    /// (two of them are further apart than a double's rounding interval is wide), and the conversion back is exact.
    /// So it is checked that way: what clusterd sends (JSON's shortest form of each reading) passes. The table's 1000
    /// CPU cells, written twice each, were a tenth of clusterctl's CPU through double formatting (Grisu, then Dragon4).
    /// </summary>
    internal static long Hundredths(double value)
    {
        if (!(value >= 0 && value < 1e15))
        {
            return -1;
        }
        var digits = (decimal)value;
        return (double)digits == value ? (long)Math.Round(digits * 100, MidpointRounding.AwayFromZero) : -1;
    }

    /// <summary>
    /// What was written into <paramref name="scratch"/>: no string for a table cell (<see cref="TableRenderer"/>). The
    /// numbers here fit <see cref="TableRenderer.ScratchChars"/> whatever their value, so not fitting is a bug.
    /// </summary>
    private static ReadOnlySpan<char> Written(Span<char> scratch, IFormatProvider provider,
        [InterpolatedStringHandlerArgument(nameof(scratch), nameof(provider))] scoped ref MemoryExtensions.TryWriteInterpolatedStringHandler text) =>
        scratch.TryWrite(provider, ref text, out var length)
            ? scratch[..length]
            : throw new InvalidOperationException($"a table cell longer than {scratch.Length} characters");

    /// <summary>A timeout or delay as the user would type it: 500ms, 5s, 1.5s.</summary>
    public static string Duration(TimeSpan span) =>
        span.TotalSeconds < 1 ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalMilliseconds:0}ms") : string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.###}s");

    /// <summary>SIGKILL for 9; the bare number for signals outside the Linux table.</summary>
    public static string Signal(int signal) =>
        signal > 0 && signal < s_signalNames.Length ? s_signalNames[signal] : signal.ToString(CultureInfo.InvariantCulture);

    /// <summary>The last health check and how long it took: pass 3ms, fail 2s, or - before the first.</summary>
    public static string Health(string? result, double? latencySeconds) =>
        result is null ? None : latencySeconds is { } seconds ? $"{result} {Duration(TimeSpan.FromSeconds(seconds))}" : result;

    /// <summary>How the last process of a slot ended: exited(1), crashed(SIGSEGV), stopped, or - when it never did.</summary>
    public static string LastExit(string? reason, int? code, int? signal)
    {
        if (reason is null && code is null && signal is null)
        {
            return None;
        }
        var text = reason ?? "exited";
        return signal is { } s ? $"{text}({Signal(s)})"
            : code is { } c ? string.Create(CultureInfo.InvariantCulture, $"{text}({c})")
            : text;
    }

    /// <summary>UTC with milliseconds, ISO 8601: sortable, and the same whatever the machine's time zone.</summary>
    public static string Time(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
