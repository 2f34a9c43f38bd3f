using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Clusterd.Config;

/// <summary>
/// Parses <c>"127.0.0.1:8080"</c>, <c>"[::1]:8080"</c> and <c>"unix:/run/web.sock"</c>. Hosts must be IP literals: clusterd
/// binds before any worker runs and must not depend on name resolution (or on "localhost" meaning v4 or v6).
/// </summary>
internal static class ListenAddressParser
{
    private const string UnixPrefix = "unix:";

    /// <summary>sun_path is 108 bytes on Linux and 104 on macOS, and one byte is the terminating NUL.</summary>
    public static int MaxUnixPathBytes => OperatingSystem.IsMacOS() ? 103 : 107;

    /// <summary>
    /// Parses <paramref name="text"/>. On failure <paramref name="error"/> is "what is wrong; how to fix".
    /// <paramref name="isWorkerListener"/> allows <c>unix:</c> paths and explains why port 0 cannot work for workers.
    /// </summary>
    public static bool TryParse(string text, bool isWorkerListener, out ListenAddress? address, out string error)
    {
        address = null;
        error = "";
        if (text.StartsWith(UnixPrefix, StringComparison.Ordinal))
        {
            return isWorkerListener
                ? TryParseUnix(text, out address, out error)
                : Fail("a unix: socket is not supported here; use \"HOST:PORT\", e.g. \"127.0.0.1:9464\"", out error);
        }

        string host;
        string portText;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return Fail("missing ']' after the IPv6 address; write it as \"[::1]:8080\"", out error);
            }
            host = text[1..close];
            var rest = text[(close + 1)..];
            if (!rest.StartsWith(':') || rest.Length == 1)
            {
                return Fail($"missing port; write it as \"[{host}]:PORT\", e.g. \"[{host}]:8080\"", out error);
            }
            portText = rest[1..];
            if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return Fail($"'{host}' is not an IPv6 address; brackets are only for IPv6, e.g. \"[::1]:8080\"", out error);
            }
            return TryFinish(text, v6, portText, isWorkerListener, out address, out error);
        }

        var colon = text.LastIndexOf(':');
        if (colon < 0)
        {
            return Fail($"missing port; write it as \"HOST:PORT\", e.g. \"127.0.0.1:8080\"", out error);
        }
        if (text.IndexOf(':', StringComparison.Ordinal) != colon)
        {
            return Fail($"IPv6 addresses must be in brackets; write it as \"[{text[..colon]}]:{text[(colon + 1)..]}\"", out error);
        }
        host = text[..colon];
        portText = text[(colon + 1)..];
        if (host.Length == 0)
        {
            return Fail($"missing host; write \"0.0.0.0:{portText}\" for all IPv4 interfaces or \"127.0.0.1:{portText}\" for loopback", out error);
        }
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return Fail($"host must be an IP address, not a name; use \"127.0.0.1:{portText}\" (or \"[::1]:{portText}\" for IPv6)", out error);
        }
        // IPAddress.TryParse also accepts "127.1" and "10"; only the dotted-quad form is unambiguous.
        if (!IsDottedQuad(host) || !IPAddress.TryParse(host, out var v4))
        {
            return Fail($"host '{host}' is not an IP address; clusterd binds literal addresses only, e.g. \"0.0.0.0:{portText}\" or \"[::]:{portText}\"", out error);
        }
        return TryFinish(text, v4, portText, isWorkerListener, out address, out error);
    }

    private static bool TryFinish(string text, IPAddress ip, string portText, bool isWorkerListener, out ListenAddress? address, out string error)
    {
        address = null;
        if (portText.Length == 0 || portText.Length > 5 || !portText.All(char.IsAsciiDigit))
        {
            return Fail($"port '{portText}' is not a number; use a port from 1 to 65535", out error);
        }
        var port = int.Parse(portText, NumberStyles.None, CultureInfo.InvariantCulture);
        if (port == 0)
        {
            return Fail(isWorkerListener
                ? "port 0 is not allowed: workers must share one known port; pick a fixed port such as 8080"
                : "port 0 is not allowed; pick a fixed port from 1 to 65535", out error);
        }
        if (port > 65535)
        {
            return Fail($"port {port} is out of range; use a port from 1 to 65535", out error);
        }
        address = new ListenAddress(text, new IPEndPoint(ip, port));
        error = "";
        return true;
    }

    private static bool TryParseUnix(string text, out ListenAddress? address, out string error)
    {
        address = null;
        var path = text[UnixPrefix.Length..];
        if (!path.StartsWith('/'))
        {
            var name = path.Length == 0 ? "NAME.sock" : Path.GetFileName(path);
            return Fail($"unix socket path must be absolute; write it as \"unix:/run/{name}\"", out error);
        }
        var bytes = Encoding.UTF8.GetByteCount(path);
        if (bytes > MaxUnixPathBytes)
        {
            return Fail($"unix socket path is {bytes} bytes, the limit is {MaxUnixPathBytes}; use a shorter path such as \"unix:/run/{Path.GetFileName(path)}\"", out error);
        }
        if (path.Contains('\0', StringComparison.Ordinal))
        {
            return Fail("unix socket path must not contain a NUL character; remove it", out error);
        }
        address = new ListenAddress(text, new UnixDomainSocketEndPoint(path));
        error = "";
        return true;
    }

    /// <summary>A key that is equal for addresses that would bind the same socket, for duplicate detection.</summary>
    public static string Identity(ListenAddress address) => address.EndPoint switch
    {
        IPEndPoint ip => ip.ToString(),
        _ => address.Text,
    };

    private static bool IsDottedQuad(string host)
    {
        var parts = host.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is >= 1 and <= 3 && p.All(char.IsAsciiDigit));
    }

    private static bool Fail(string message, out string error)
    {
        error = message;
        return false;
    }
}
