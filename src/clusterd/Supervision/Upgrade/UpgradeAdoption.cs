using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text.Json;
using Clusterd.Platform;
using Microsoft.Win32.SafeHandles;

namespace Clusterd.Supervision.Upgrade;

/// <summary>
/// The state this process was exec'd with by an in-place upgrade (docs/adr/0008), found through
/// <see cref="Supervisor.UpgradeFdVariable"/>, and what to do if this image cannot take it over: exec the binary that
/// wrote it, with the same state, so the workers never notice.
/// </summary>
internal sealed class UpgradeAdoption
{
    /// <summary>Set on a fallback's exec: the image it starts must take over or fail, not fall back again (a loop).</summary>
    public const string FallbackVariable = "CLUSTERD_UPGRADE_FALLBACK";

    private const int Taking = 0;
    private const int Taken = 1;
    private const int FallingBack = 2;

    private readonly TaskCompletionSource _fallbackFailed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The old binary, held open by the image that wrote the state (<see cref="UpgradeState.OldBinaryFd"/>): what a fallback execs.</summary>
    private readonly SafeFileHandle? _oldBinary;

    private int _stage = Taking;

    internal UpgradeAdoption(UpgradeState state, int stateFd, SafeFileHandle? oldBinary, string? fallbackReason)
    {
        State = state;
        StateFd = stateFd;
        _oldBinary = oldBinary;
        FallbackReason = fallbackReason;
    }

    public UpgradeState State { get; }

    /// <summary>The memfd: kept open until the state is taken over, for a fallback.</summary>
    public int StateFd { get; }

    /// <summary>Why the new binary gave up, when this image is the old one taking its state back.</summary>
    public string? FallbackReason { get; }

    /// <summary>
    /// The state named by the environment, or null on an ordinary start. The variables go from the environment at
    /// once: workers inherit clusterd's environment, and must not see them. An image that is the fallback runs the old
    /// binary through its descriptor, and its path on disk may hold another file by now: it is told the path it was
    /// installed as (<see cref="OwnExecutable"/>), where its clusterd-exec is.
    /// </summary>
    /// <exception cref="UpgradeStateException">The state cannot be read; <see cref="FallBackUnread"/> is what is left to do.</exception>
    [SupportedOSPlatform("linux")]
    public static UpgradeAdoption? FromEnvironment(out int? stateFd, out string? fallback)
    {
        stateFd = null;
        var value = Environment.GetEnvironmentVariable(Supervisor.UpgradeFdVariable);
        fallback = Environment.GetEnvironmentVariable(FallbackVariable);
        Environment.SetEnvironmentVariable(Supervisor.UpgradeFdVariable, null);
        Environment.SetEnvironmentVariable(FallbackVariable, null);
        if (value is null)
        {
            return null;
        }
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var fd) || fd < 3)
        {
            throw new UpgradeStateException($"{Supervisor.UpgradeFdVariable}={value} is not a descriptor number");
        }
        stateFd = fd;
        byte[] bytes;
        try
        {
            bytes = UpgradeHandoff.ReadAll(fd);
        }
        catch (IOException e)
        {
            throw new UpgradeStateException($"cannot read the upgrade state from fd {fd}: {e.Message}");
        }
        var state = UpgradeDocument.Deserialize(bytes);
        if (fallback is not null)
        {
            OwnExecutable.InstalledAs(state.OldBinary);
        }
        return new UpgradeAdoption(state, fd, HoldOldBinary(state), fallback);
    }

    /// <summary>The descriptor the state names for the old binary, ours now, close-on-exec again as every other one.</summary>
    [SupportedOSPlatform("linux")]
    internal static SafeFileHandle? HoldOldBinary(UpgradeState state)
    {
        if (state.OldBinaryFd is not int fd)
        {
            return null;
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true); // ours: closed once the state is taken over (Complete)
        try
        {
            Descriptors.SetInheritable(handle, inheritable: false);
        }
        catch (ErrnoException e)
        {
            handle.SetHandleAsInvalid(); // not open: nothing of ours to close
            throw new UpgradeStateException($"the old binary's descriptor {fd} is not there: {e.Message}");
        }
        return handle;
    }

    /// <summary>
    /// The adopting start, from the exec until <see cref="Complete"/>: <paramref name="start"/> runs clusterd (Main's
    /// command) and returns its exit status. Whatever ends it before the state is taken over, an exception or a return
    /// (arguments that do not parse, a config that does not load, a host that did not start), falls back instead of
    /// exiting: the one boundary that makes sure no failure of this image loses the workers.
    /// </summary>
    public int Guard(Func<int> start)
    {
        try
        {
            string reason;
            try
            {
                var status = start();
                if (!Pending)
                {
                    return status;
                }
                reason = $"it exited with status {status} before it had taken over (its output says why)";
            }
            catch (Exception e) when (Pending)
            {
                reason = $"it failed before it had taken over: {e.Message}";
            }
            FallBack(reason);
        }
        catch (UpgradeStateException e)
        {
            Console.Error.WriteLine($"clusterd: {e.Message}"); // nothing left to fall back to: the workers end with this process
        }
        return 1;
    }

    /// <summary>Whether the takeover is still under way: a failure now falls back.</summary>
    public bool Pending => Volatile.Read(ref _stage) == Taking;

    /// <summary>
    /// Everything is taken over and served: the state's memfd and the old binary are not needed any more, and a failure
    /// is no longer a fallback. This image's own next upgrade opens its executable again.
    /// </summary>
    public void Complete()
    {
        if (Interlocked.CompareExchange(ref _stage, Taken, Taking) == Taking)
        {
            _ = Interop.close(StateFd);
            _oldBinary?.Dispose();
        }
    }

    /// <summary>
    /// This image cannot take the state over (<paramref name="reason"/>): exec the binary that wrote it, with the same
    /// state, from the thread whose children the workers are; from any thread, at the moment of the failure, before
    /// anything is torn down. A second caller waits for the first one's exec. Returns only by throwing, when there is
    /// nothing left to fall back to (this image is a fallback already, or the exec failed), or when the takeover
    /// completed already.
    /// </summary>
    public void FallBack(string reason)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("an in-place upgrade is Linux only");
        }
        var stage = Interlocked.CompareExchange(ref _stage, FallingBack, Taking);
        if (stage == Taken)
        {
            throw new InvalidOperationException($"the takeover is complete; too late to fall back ({reason})");
        }
        if (stage == FallingBack)
        {
            // The first failure's exec ends this thread with the rest; nothing may be torn down meanwhile.
            _fallbackFailed.Task.Wait();
            throw new UpgradeStateException($"{reason}; and the fallback to {State.OldBinary} did not happen");
        }
        Console.Error.WriteLine($"clusterd: cannot take over the upgrade state: {reason}; falling back to {State.OldBinary}");
        try
        {
            SpawnerThread.Run(() =>
            {
                if (OperatingSystem.IsLinux())
                {
                    FallBack(StateFd, State.OldBinary, _oldBinary, State.Arguments, State.Descriptors(), FallbackReason, reason);
                }
            });
        }
        catch (IOException e) when (e is not UpgradeStateException)
        {
            throw new UpgradeStateException($"{reason}; and the fallback to {State.OldBinary} failed: {e.Message}");
        }
        finally
        {
            _fallbackFailed.TrySetResult(); // reached only when the exec did not happen
        }
        throw new UpgradeStateException($"{reason}; and the fallback to {State.OldBinary} did not happen");
    }

    /// <summary><see cref="FallBack(string)"/> for a state this binary cannot read: what it needs is read leniently.</summary>
    [SupportedOSPlatform("linux")]
    public static void FallBackUnread(int stateFd, string? previousFailure, string reason)
    {
        string? binary = null;
        string[] arguments = [];
        int[] fds = [];
        int? held = null;
        try
        {
            using var document = JsonDocument.Parse(UpgradeHandoff.ReadAll(stateFd));
            var root = document.RootElement;
            binary = root.GetProperty("old_binary").GetString();
            arguments = [.. root.GetProperty("arguments").EnumerateArray().Select(a => a.GetString() ?? "")];
            held = root.TryGetProperty("old_binary_fd", out var fd) && fd.ValueKind == JsonValueKind.Number ? fd.GetInt32() : null;
        }
        catch (Exception e) when (e is JsonException or IOException or KeyNotFoundException or InvalidOperationException)
        {
            throw new UpgradeStateException($"{reason}; and the state does not even say which binary wrote it ({e.Message}), so there is nothing to fall back to");
        }
        // Its fds are still inheritable (nothing here touched them): only the state's own must be kept open.
        using var oldBinary = held is int exe ? new SafeFileHandle(exe, ownsHandle: false) : null; // the old image's, whose state names it
        FallBack(stateFd, binary ?? "", oldBinary, arguments, fds, previousFailure, reason);
    }

    /// <summary>
    /// The exec of the old binary: through <paramref name="oldBinary"/> when it was held open (after a package upgrade
    /// its path holds the new file), else by its path. Either way argv[0] is its path, as it was started.
    /// </summary>
    [SupportedOSPlatform("linux")]
    private static void FallBack(int stateFd, string binary, SafeHandle? oldBinary, IReadOnlyList<string> arguments, IEnumerable<int> fds,
        string? previousFailure, string reason)
    {
        if (previousFailure is not null)
        {
            throw new UpgradeStateException($"{reason}; this is the fallback to the old binary already (the new one failed: {previousFailure}), so there is nothing left to fall back to");
        }
        var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Select(e => $"{e.Key}={e.Value}")
            .Append($"{Supervisor.UpgradeFdVariable}={stateFd.ToString(CultureInfo.InvariantCulture)}")
            .Append($"{FallbackVariable}={reason.ReplaceLineEndings(" ")}")
            .ToArray();
        int[] inherited = [.. fds, stateFd];
        Supervisor.ExecKeeping(inherited, binary, oldBinary, [binary, .. arguments], environment);
        throw new UpgradeStateException($"{reason}; and the fallback to {binary} did not happen");
    }
}
