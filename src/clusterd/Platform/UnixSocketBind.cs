using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Clusterd.Platform;

/// <summary>
/// bind(2) of a Unix socket to a path, behind .NET's back. A socket bound with <see cref="Socket.Bind"/> unlinks its
/// path when it is disposed, whatever the path names by then (another program's socket, a file put there since), and
/// even while a service manager still holds the socket for the next clusterd. clusterd removes its listen paths
/// itself, and only what it bound (docs/security.md).
/// </summary>
internal static class UnixSocketBind
{
    private const int AfUnix = 1;         // the same on Linux and macOS
    private const int SunPathOffset = 2;  // Linux: u16 sun_family; macOS: u8 sun_len, u8 sun_family
    private const int SunPathLength = 108; // Linux's; macOS has 104, and the config keeps paths within it

    /// <exception cref="IOException">The path is too long for a Unix socket, or bind failed (an <see cref="ErrnoException"/>:
    /// EADDRINUSE, EACCES, ENOENT...).</exception>
    public static unsafe void Bind(Socket socket, string path)
    {
        var byteCount = Encoding.UTF8.GetByteCount(path);
        if (byteCount >= SunPathLength)
        {
            throw new IOException($"{path} is {byteCount} bytes long; a Unix socket path may have at most {SunPathLength - 1}: use a shorter directory or name");
        }
        var address = stackalloc byte[SunPathOffset + SunPathLength];
        var span = new Span<byte>(address, SunPathOffset + SunPathLength);
        span.Clear();
        var length = Encoding.UTF8.GetBytes(path, span[SunPathOffset..^1]); // the last byte stays the terminating NUL
        var addressLength = (uint)(SunPathOffset + length + 1);
        if (OperatingSystem.IsMacOS())
        {
            span[0] = (byte)addressLength;
            span[1] = AfUnix;
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(span, AfUnix); // sa_family_t, in host order: x86-64 and arm64 are little-endian
        }
        var fd = (int)socket.SafeHandle.DangerousGetHandle();
        ErrnoException.ThrowIfFailed(Interop.bind(fd, address, addressLength), $"bind {path}");
    }
}
