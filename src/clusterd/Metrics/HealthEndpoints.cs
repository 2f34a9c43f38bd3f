using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Clusterd.Metrics;

/// <summary>
/// <c>/livez</c>, <c>/readyz</c> and <c>/startupz</c> on the <c>[metrics] listen</c> address, next to <c>/metrics</c>:
/// one port for everything an orchestrator probes. A second <see cref="HttpListener"/> with its own path prefixes on
/// the same address; .NET's managed listener shares one socket among every listener of the process on an address and
/// port, and routes each request by the longest matching prefix. 200 when the probe passes, 503 when it does not, both
/// with a plain-text reason; GET and HEAD only.
/// </summary>
internal sealed partial class HealthEndpoints : IDisposable
{
    private static readonly string[] s_paths = ["/livez", "/readyz", "/startupz"];

    private readonly HttpListener _listener = new();
    private readonly HealthChecks _checks;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public HealthEndpoints(string listen, HealthChecks checks, ILogger logger)
    {
        _checks = checks;
        _logger = logger;
        foreach (var path in s_paths)
        {
            _listener.Prefixes.Add(MetricsHosting.Prefix(listen, path + "/"));
        }
    }

    /// <summary>Starts listening (throws <see cref="HttpListenerException"/> if it cannot) and answering.</summary>
    public void Start()
    {
        _listener.Start();
        _loop = AcceptAsync(_stop.Token);
    }

    private async Task AcceptAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().WaitAsync(stop);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or HttpListenerException)
            {
                return; // stopping
            }
            _ = AnswerAsync(context);
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            var (status, text) = await RouteAsync(context.Request);
            var body = Encoding.UTF8.GetBytes(text);
            response.StatusCode = status;
            response.ContentType = "text/plain; charset=utf-8";
            response.Headers["Cache-Control"] = "no-store";
            response.ContentLength64 = body.Length;
            if (context.Request.HttpMethod != "HEAD")
            {
                await response.OutputStream.WriteAsync(body);
            }
            response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            LogAnswerFailed(context.Request.Url?.AbsolutePath ?? "?", e.Message); // the prober hung up, or clusterd is stopping
            response.Abort();
        }
    }

    private async Task<(int Status, string Text)> RouteAsync(HttpListenerRequest request)
    {
        // The listener matches prefixes loosely ("/livezz" reaches the "/livez/" prefix): the path is checked here.
        var path = request.Url?.AbsolutePath.TrimEnd('/') ?? "";
        HealthAnswer answer;
        switch (path)
        {
            case "/livez" or "/readyz" or "/startupz" when request.HttpMethod is not ("GET" or "HEAD"):
                return (405, $"{request.HttpMethod} is not allowed here; use GET\n");
            case "/livez":
                answer = await _checks.LiveAsync();
                break;
            case "/readyz":
                answer = _checks.Ready();
                break;
            case "/startupz":
                answer = _checks.Started();
                break;
            default:
                return (404, $"no such path; clusterd serves {string.Join(", ", s_paths)} and /metrics here\n");
        }
        return (answer.Ok ? 200 : 503, answer.Text);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close(); // ends GetContextAsync; requests in flight are aborted
        _loop?.Wait(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }

    [LoggerMessage(EventId = 500, Level = LogLevel.Debug, Message = "health endpoint {Path}: the answer was not sent: {Reason}")]
    private partial void LogAnswerFailed(string path, string reason);
}
