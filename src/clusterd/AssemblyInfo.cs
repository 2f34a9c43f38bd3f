using System.Runtime.Versioning;

// clusterd is a Unix daemon: fork/exec, signals, Unix sockets and file modes throughout.
[assembly: UnsupportedOSPlatform("windows")]
