using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace Clusterctl.Connection;

/// <summary>
/// The control protocol over a running <c>ssh HOST clusterctl dial-stdio</c>: what is written goes to ssh's stdin, what
/// is read comes from its stdout, so <see cref="Clusterd.Protocol.ControlClient"/> speaks to the far clusterd exactly as
/// to a local socket. ssh's stderr is kept, not shown: when ssh ends with an error, the read or write that meets the end
/// throws an <see cref="SshFailureException"/> naming ssh's exit code and its stderr's last line (the line that says why).
/// </summary>
internal sealed class SshStream : Stream
{
    /// <summary>How long a closed ssh gets to exit before it is killed, and before a failure's exit code is given up on.</summary>
    private static readonly TimeSpan s_exitGrace = TimeSpan.FromSeconds(5);

    private readonly Process _ssh;
    private readonly SshHost _host;
    private readonly Stream _fromRemote;
    private readonly Stream _toRemote;
    private readonly Task<string?> _lastErrorLine;

    private SshStream(Process ssh, SshHost host)
    {
        _ssh = ssh;
        _host = host;
        _fromRemote = ssh.StandardOutput.BaseStream;
        _toRemote = ssh.StandardInput.BaseStream;
        _lastErrorLine = LastLineAsync(ssh.StandardError);
    }

    private int _disposed;

    /// <param name="program">The OpenSSH client: <c>ssh</c> on the PATH; tests give a stand-in.</param>
    public static SshStream Start(SshHost host, TimeSpan connectTimeout, string? remoteSocket, string program = "ssh")
    {
        var config = Environment.GetEnvironmentVariable(SshHost.ConfigEnvironmentVariable);
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in host.SshArguments(connectTimeout, remoteSocket, string.IsNullOrEmpty(config) ? null : config))
        {
            start.ArgumentList.Add(argument);
        }
        try
        {
            return new SshStream(Process.Start(start) ?? throw new Win32Exception("no process started"), host);
        }
        catch (Win32Exception ex)
        {
            throw new CliException(ExitCodes.System,
                $"cannot reach {host.Label}: cannot run '{program}' ({ex.Message}); --host needs the OpenSSH client on the PATH (Debian: apt install openssh-client)", ex);
        }
    }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read;
        try
        {
            read = await _fromRemote.ReadAsync(buffer, cancellationToken);
        }
        catch (IOException ex)
        {
            throw await FailureAsync() ?? ex;
        }
        // ssh closes its stdout when it exits: a clean exit is the end of the stream, any other is why it ended.
        return read == 0 && await FailureAsync() is { } failure ? throw failure : read;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            await _toRemote.WriteAsync(buffer, cancellationToken);
        }
        catch (IOException ex)
        {
            // A broken pipe says only that ssh is gone; its exit code and stderr say why.
            throw await FailureAsync() ?? ex;
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override void Flush() => _toRemote.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _toRemote.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Why ssh ended, once it has: null for exit 0 (or an ssh that does not exit), else the exception to throw.</summary>
    private async Task<SshFailureException?> FailureAsync()
    {
        using var grace = new CancellationTokenSource(s_exitGrace);
        try
        {
            await _ssh.WaitForExitAsync(grace.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        return _ssh.ExitCode == 0 ? null : new SshFailureException(Explain(_host, _ssh.ExitCode, await _lastErrorLine));
    }

    /// <summary>What an exit code of <c>ssh HOST clusterctl dial-stdio</c> means, with what to do about it.</summary>
    internal static string Explain(SshHost host, int exitCode, string? lastErrorLine)
    {
        var said = string.IsNullOrEmpty(lastErrorLine) ? "" : $": {lastErrorLine}";
        var code = exitCode.ToString(CultureInfo.InvariantCulture);
        return exitCode switch
        {
            // ssh's own failures (cannot connect, host key, authentication) are all 255.
            255 => $"ssh to {host.Label} failed (exit 255){said}",
            127 => $"{host.Label} has no '{host.RemoteClusterctl}' (exit 127{said}); install clusterd there, or give its path: ssh://{host.Label}?clusterctl=/usr/bin/clusterctl",
            ExitCodes.Usage => $"the clusterctl on {host.Label} does not know 'dial-stdio' (exit 100{said}); install the same clusterd release there",
            _ => $"clusterctl dial-stdio on {host.Label} exited with {code}{said}",
        };
    }

    private static async Task<string?> LastLineAsync(StreamReader stderr)
    {
        string? last = null;
        while (await stderr.ReadLineAsync() is { } line)
        {
            if (!string.IsNullOrWhiteSpace(line))
            {
                last = line.Trim();
            }
        }
        return last;
    }

    /// <summary>
    /// Closes ssh's stdin, which ends dial-stdio on the far side and so ssh here; an ssh that does not follow within
    /// the grace period is killed, so clusterctl never leaves one behind.
    /// </summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            try
            {
                _toRemote.Dispose();
            }
            catch (IOException)
            {
                // ssh is already gone: the pipe had nobody left to flush to.
            }
            if (!_ssh.WaitForExit(s_exitGrace))
            {
                _ssh.Kill(entireProcessTree: true);
                _ssh.WaitForExit();
            }
            _fromRemote.Dispose();
            _ssh.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>ssh, or what it ran, ended with an error; the message names the host, the exit code and what to do.</summary>
internal sealed class SshFailureException(string message) : IOException(message);
