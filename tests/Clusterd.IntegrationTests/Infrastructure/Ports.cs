using System.Net;
using System.Net.Sockets;

namespace Clusterd.IntegrationTests.Infrastructure;

internal static class Ports
{
    /// <summary>A port on 127.0.0.1 that was free a moment ago (the kernel's choice, so parallel tests do not collide).</summary>
    public static int Free()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }
}
