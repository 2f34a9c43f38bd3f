using System.Globalization;

namespace Clusterctl.Connection;

/// <summary>
/// A clusterd on another machine, reached as <c>docker -H ssh://</c> reaches dockerd: the system's OpenSSH client logs
/// in and runs <c>clusterctl dial-stdio</c> there, which relays the control protocol between its stdin/stdout and that
/// host's control socket. Written <c>ssh://[user@]host[:port][?clusterctl=PATH]</c>.
/// </summary>
/// <param name="RemoteClusterctl">The clusterctl to run on the host: a name looked up on its PATH, or a path.</param>
internal sealed record SshHost(string? User, string Host, int? Port, string RemoteClusterctl)
{
    public const string Scheme = "ssh://";
    public const string EnvironmentVariable = "CLUSTERD_HOST";

    /// <summary>An ssh_config file for every connection (<c>ssh -F</c>): keys, known hosts, jump hosts, without touching ~/.ssh.</summary>
    public const string ConfigEnvironmentVariable = "CLUSTERD_SSH_CONFIG";

    private const string DefaultRemoteClusterctl = "clusterctl";
    private const string ClusterctlParameter = "clusterctl=";

    /// <summary>How the host is named in output and messages: <c>user@host:port</c> as written, without the scheme.</summary>
    public string Label { get; } = (User is null ? "" : User + "@") + (Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host)
        + (Port is { } port ? ":" + port.ToString(CultureInfo.InvariantCulture) : "");

    /// <summary>
    /// Parses one address. Every part is checked against what ssh and the remote shell could take for something else:
    /// a user or host starting with '-' would be an ssh option, and ssh hands the remote command to the login shell as
    /// one string, so the clusterctl path and the socket path are limited to characters no shell treats specially.
    /// </summary>
    public static bool TryParse(string text, out SshHost host, out string error)
    {
        host = null!;
        error = "";
        if (!text.StartsWith(Scheme, StringComparison.Ordinal))
        {
            error = $"'{text}' is not an SSH address; use ssh://[user@]host[:port], e.g. ssh://admin@web1.example.com";
            return false;
        }
        var rest = text[Scheme.Length..];
        var remoteClusterctl = DefaultRemoteClusterctl;
        var query = rest.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0)
        {
            var parameter = rest[(query + 1)..];
            rest = rest[..query];
            if (!parameter.StartsWith(ClusterctlParameter, StringComparison.Ordinal) || !IsShellSafePath(parameter[ClusterctlParameter.Length..]))
            {
                error = $"'{text}': the only parameter is ?clusterctl=PATH, a path of letters, digits and / . _ + - (e.g. ?clusterctl=/usr/local/bin/clusterctl)";
                return false;
            }
            remoteClusterctl = parameter[ClusterctlParameter.Length..];
        }
        string? user = null;
        var at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            user = rest[..at];
            rest = rest[(at + 1)..];
            if (!IsName(user))
            {
                error = $"'{text}': the user must be letters, digits and . _ - and must not start with '-' or '.'";
                return false;
            }
        }
        if (!TrySplitPort(rest, out var name, out var port))
        {
            error = $"'{text}': the port must be a number from 1 to 65535, e.g. ssh://{name}:2222";
            return false;
        }
        if (name.Length == 0 || !(IsName(name) || IsBracketedAddress(rest)))
        {
            error = $"'{text}': the host must be a name or IPv4 address (letters, digits and . _ -, not starting with '-' or '.') or an IPv6 address in brackets, with nothing after it but :port";
            return false;
        }
        host = new SshHost(user, name, port, remoteClusterctl);
        return true;
    }

    /// <summary>
    /// The ssh command line, as an argv (no local shell): <c>ssh -o BatchMode=yes ... -- host clusterctl dial-stdio</c>.
    /// BatchMode because nobody can answer a password or host-key prompt through the protocol; <c>--</c> before the host,
    /// as docker does, so that nothing after it can be read as an option.
    /// </summary>
    /// <param name="connectTimeout">clusterctl's --timeout: it bounds ssh's TCP connect and handshake as it bounds a socket connect.</param>
    /// <param name="remoteSocket">--socket, which with --host names the control socket on the far side.</param>
    /// <param name="config">An ssh_config for <c>-F</c> (<see cref="ConfigEnvironmentVariable"/>), or null for ssh's own.</param>
    public IReadOnlyList<string> SshArguments(TimeSpan connectTimeout, string? remoteSocket, string? config)
    {
        var args = new List<string> { "-o", "BatchMode=yes", "-o", $"ConnectTimeout={Math.Max(1, (int)Math.Ceiling(connectTimeout.TotalSeconds))}" };
        if (config is not null)
        {
            args.AddRange(["-F", config]);
        }
        if (Port is { } port)
        {
            args.AddRange(["-p", port.ToString(CultureInfo.InvariantCulture)]);
        }
        if (User is not null)
        {
            args.AddRange(["-l", User]);
        }
        args.AddRange(["--", Host, RemoteClusterctl, "dial-stdio"]);
        if (remoteSocket is not null)
        {
            args.AddRange(["--socket", remoteSocket]);
        }
        return args;
    }

    /// <summary>Characters that mean nothing to a POSIX shell, so a path made of them reaches the far side's clusterctl as written.</summary>
    public static bool IsShellSafePath(string path) =>
        path.Length > 0 && path[0] != '-' && path.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '+' or '-');

    private static bool IsName(string text) =>
        text.Length > 0 && text[0] is not ('-' or '.') && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    private static bool IsBracketedAddress(string text) => text.StartsWith('[');

    /// <summary>Splits <c>host</c>, <c>host:22</c>, <c>[::1]</c> or <c>[::1]:22</c>; the brackets are dropped, ssh wants the bare address.</summary>
    private static bool TrySplitPort(string text, out string name, out int? port)
    {
        port = null;
        name = text;
        string portText;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                name = "";
                return true;
            }
            name = text[1..close];
            if (name.Length == 0 || !name.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.'))
            {
                name = "";
                return true;
            }
            portText = text[(close + 1)..];
            if (portText.Length == 0)
            {
                return true;
            }
            if (portText[0] != ':')
            {
                name = "";
                return true;
            }
            portText = portText[1..];
        }
        else
        {
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                return true;
            }
            name = text[..colon];
            portText = text[(colon + 1)..];
        }
        if (int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number is >= 1 and <= 65535)
        {
            port = number;
            return true;
        }
        return false;
    }
}
