using System.Numerics;
using System.Runtime.Versioning;

namespace Clusterd.Platform;

/// <summary>The CPUs this process may run on: its affinity mask (taskset, cpusets, Docker's --cpuset-cpus).</summary>
[SupportedOSPlatform("linux")]
internal static class Affinity
{
    private const int EINVAL = 22;

    /// <summary>Hosts with more CPUs than the kernel's mask size need a bigger buffer: grow until the kernel takes it.</summary>
    private const int MaxMaskBytes = 1 << 20;

    public static unsafe int Count()
    {
        for (var bytes = 128; ; bytes *= 2)
        {
            var mask = new byte[bytes];
            fixed (byte* p = mask)
            {
                if (Interop.sched_getaffinity(0, (nuint)bytes, p) == 0)
                {
                    var count = 0;
                    foreach (var b in mask)
                    {
                        count += BitOperations.PopCount(b);
                    }
                    return count;
                }
            }
            var error = ErrnoException.FromLastError("sched_getaffinity");
            if (error.Errno != EINVAL || bytes >= MaxMaskBytes)
            {
                throw error;
            }
        }
    }
}
