namespace Clusterd.Protocol;

/// <summary>The <c>error.code</c> values of a response. Stable: scripts may match on them.</summary>
public static class ErrorCodes
{
    public const string BadFrame = "bad_frame";
    public const string FrameTooLarge = "frame_too_large";
    public const string VersionMismatch = "version_mismatch";
    public const string BadRequest = "bad_request";
    public const string UnknownCommand = "unknown_command";
    public const string PermissionDenied = "permission_denied";
    public const string NotFound = "not_found";
    public const string Busy = "busy";
    public const string Failed = "failed";
    public const string InvalidConfig = "invalid_config";
    public const string TooManyConnections = "too_many_connections";
    public const string Timeout = "timeout";
    public const string ShuttingDown = "shutting_down";
    public const string Internal = "internal";

    /// <summary>
    /// The errors after which clusterd closes the connection: the frames are out of step (a bad, oversized or late
    /// frame, another version), or the peer may not go on (refused its connection or a command). A client that keeps
    /// its connection for the next request (the shell) opens a new one.
    /// </summary>
    public static bool ClosesConnection(string code) =>
        code is BadFrame or FrameTooLarge or VersionMismatch or Timeout or PermissionDenied or TooManyConnections;
}
