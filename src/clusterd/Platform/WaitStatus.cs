namespace Clusterd.Platform;

/// <summary>waitpid's status word, which Linux and Darwin encode alike: exit code in bits 8-15, or a signal in bits 0-6.</summary>
internal static class WaitStatus
{
    public static (int? Code, int? Signal) Decode(int status) =>
        (status & 0x7f) == 0 ? ((status >> 8) & 0xff, null) : (null, status & 0x7f);
}
