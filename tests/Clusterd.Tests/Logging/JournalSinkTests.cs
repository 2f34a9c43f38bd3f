using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Clusterd.Logging;
using Clusterd.Tests.Readiness;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Clusterd.Tests.Logging;

public sealed class JournalSinkTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("clusterd-journal-").FullName;
    private readonly ListLogger _logger = new();
    private readonly FakeTimeProvider _time = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string SocketPath => Path.Combine(_dir, "socket");

    /// <summary>A stand-in for journald: a datagram socket bound where the sink sends.</summary>
    private Socket Journald()
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(SocketPath));
        return socket;
    }

    [Fact]
    public void Send_Entry_ArrivesAsOneDatagramInTheNativeFormat()
    {
        using var journald = Journald();
        using var sink = new JournalSink(SocketPath, _logger, _time);
        var entry = new JournalEntry().Add("MESSAGE", "hello").Add("PRIORITY", "3").Add("CLUSTERD_GROUP", "web");

        Assert.Null(sink.Send(entry.Bytes));

        var buffer = new byte[4096];
        var n = journald.Receive(buffer);
        Assert.Equal("MESSAGE=hello\nPRIORITY=3\nCLUSTERD_GROUP=web\n", Encoding.UTF8.GetString(buffer, 0, n));
    }

    [Fact]
    public void Add_ValueWithNewline_UsesTheBinarySafeForm()
    {
        var bytes = new JournalEntry().Add("MESSAGE", "a\nb").Bytes.ToArray();

        Assert.Equal("MESSAGE\n"u8.ToArray(), bytes[..8]);
        Assert.Equal(3UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8, 8)));
        Assert.Equal("a\nb\n"u8.ToArray(), bytes[16..]);
    }

    [Fact]
    public void Send_JournaldBehind_DropsAsBusyWithoutWaiting()
    {
        using var journald = Journald(); // never reads
        using var sink = new JournalSink(SocketPath, _logger, _time);
        var entry = new JournalEntry().Add("MESSAGE", new string('x', 1000));

        string? reason = null;
        for (var i = 0; i < 1_000_000 && reason is null; i++)
        {
            reason = sink.Send(entry.Bytes);
        }

        Assert.Equal(LogDrops.JournalBusy, reason);
        Assert.Empty(_logger.Entries); // a busy journald is counted, not reported
    }

    [Fact]
    public void Send_NoJournald_ReportsOnceAndRetriesAfterASecond()
    {
        using var sink = new JournalSink(SocketPath, _logger, _time);
        var entry = new JournalEntry().Add("MESSAGE", "lost");

        Assert.Equal(LogDrops.JournalError, sink.Send(entry.Bytes));
        Assert.Equal(LogDrops.JournalError, sink.Send(entry.Bytes));
        Assert.Single(_logger.WithId(220));

        using var journald = Journald();
        Assert.Equal(LogDrops.JournalError, sink.Send(entry.Bytes)); // within the second: no new connect
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(sink.Send(entry.Bytes));
        Assert.Single(_logger.WithId(221));
    }

    [Fact]
    public void AuditLogger_UnderJournald_SendsTheLineWithCLUSTERD_AUDIT()
    {
        using var journald = Journald();
        using var fallback = new StringWriter();
        using var provider = new JournalAuditLoggerProvider(new JournalSink(SocketPath, _logger, _time), fallback);

        Say(provider.CreateLogger("clusterd.audit"), LogLevel.Information, "control: uid 0 runs stop web");
        Say(provider.CreateLogger("clusterd.supervisor"), LogLevel.Information, "not an audit line");

        var buffer = new byte[4096];
        var n = journald.Receive(buffer);
        Assert.Equal("MESSAGE=control: uid 0 runs stop web\nPRIORITY=5\nSYSLOG_IDENTIFIER=clusterd\nCLUSTERD_AUDIT=1\n", Encoding.UTF8.GetString(buffer, 0, n));
        Assert.Equal(0, journald.Available);
        Assert.Equal("", fallback.ToString());
    }

    [Fact]
    public void AuditLogger_JournaldGone_WritesTheLineToTheConsoleInstead()
    {
        using var fallback = new StringWriter();
        using var provider = new JournalAuditLoggerProvider(new JournalSink(SocketPath, _logger, _time), fallback);

        Say(provider.CreateLogger("clusterd.audit"), LogLevel.Warning, "control: uid 1000 was refused stop");

        Assert.Equal("<4>control: uid 1000 was refused stop" + Environment.NewLine, fallback.ToString());
    }

    private static void Say(ILogger logger, LogLevel level, string message) => logger.Log(level, new EventId(310), message, null, (m, _) => m);
}
