using System.Runtime.InteropServices;

namespace Clusterd.Platform;

/// <summary>A failed libc call, named with its errno, e.g. "dup2 failed: EBADF (9): Bad file descriptor".</summary>
internal sealed class ErrnoException : IOException
{
    public ErrnoException(string call, int errno)
        : base($"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno)
    {
        Call = call;
        Errno = errno;
    }

    public string Call { get; }

    public int Errno { get; }

    /// <summary>Reads errno at once; call it directly after the failed P/Invoke.</summary>
    public static ErrnoException FromLastError(string call) => new(call, Marshal.GetLastPInvokeError());

    public static void ThrowIfFailed(int result, string call)
    {
        if (result == -1)
        {
            throw FromLastError(call);
        }
    }
}
