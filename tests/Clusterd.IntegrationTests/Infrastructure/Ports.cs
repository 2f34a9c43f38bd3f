using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Clusterd.IntegrationTests.Infrastructure;

internal static class Ports
{
    private static readonly ConcurrentDictionary<int, bool> s_given = new();

    /// <summary>
    /// A port on 127.0.0.1 that was free a moment ago (the kernel's choice, so parallel tests do not collide), and never
    /// given out before in this run: the kernel may choose a port again once its socket here is closed, and two calls in
    /// a row (a test's two groups) must not get the same one.
    /// </summary>
    public static int Free()
    {
        while (true)
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var port = ((IPEndPoint)s.LocalEndPoint!).Port;
            if (s_given.TryAdd(port, true))
            {
                return port;
            }
        }
    }
}
