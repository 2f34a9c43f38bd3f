using System.Globalization;
using System.Net;
using Clusterd.Supervision;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Clusterd.Metrics;

/// <summary>Wires <see cref="ClusterdMetrics"/>, the Prometheus endpoint and the health endpoints into the host when <c>[metrics] listen</c> is set.</summary>
internal static class MetricsHosting
{
    /// <summary>Registers the meter, a <c>/metrics</c> endpoint and the health endpoints on <paramref name="listen"/> ("IPv4:PORT", validated by the config).</summary>
    public static IServiceCollection AddClusterdMetrics(this IServiceCollection services, string listen)
    {
        var (host, port) = Split(listen);
        services.AddSingleton(sp => new ClusterdMetrics(sp.GetRequiredService<Supervisor>(), sp.GetRequiredService<Clusterd.Control.ProcessReadings>()));
        services.AddSingleton(sp =>
        {
            var lifetime = sp.GetRequiredService<IHostApplicationLifetime>();
            var checks = new HealthChecks(sp.GetRequiredService<Supervisor>(), sp.GetRequiredService<TimeProvider>(),
                () => lifetime.ApplicationStopping.IsCancellationRequested);
            return new HealthEndpoints(listen, checks, sp.GetRequiredService<ILoggerFactory>().CreateLogger("clusterd.health"));
        });
        services.AddSingleton<Clusterd.Supervision.IReloadListener>(sp => sp.GetRequiredService<ClusterdMetrics>());
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("clusterd")) // target_info's service_name, instead of unknown_service:clusterd
            .WithMetrics(metrics => metrics
            .AddMeter(ClusterdMetrics.MeterName)
            .AddPrometheusHttpListener(o =>
            {
                o.Host = host;
                o.Port = port;
                // The exporter builds its prefix with UriBuilder, which takes neither "+" nor "*", and HttpListener
                // refuses "0.0.0.0" ("The request is not supported"): put the wildcard in once the prefix is built.
                o.ConfigureHttpListener = (_, listener) =>
                {
                    listener.Prefixes.Clear();
                    listener.Prefixes.Add(Prefix(listen, "/metrics/"));
                };
            }));
        return services;
    }

    /// <summary>
    /// An HttpListener prefix for <paramref name="path"/> on <paramref name="listen"/>: "http://127.0.0.1:9464/metrics/",
    /// or, for 0.0.0.0, "http://+:9464/metrics/", which binds every IPv4 interface and answers any Host header.
    /// </summary>
    public static string Prefix(string listen, string path)
    {
        var (host, port) = Split(listen);
        return string.Create(CultureInfo.InvariantCulture, $"http://{(host == "0.0.0.0" ? "+" : host)}:{port}{path}");
    }

    private static (string Host, int Port) Split(string listen)
    {
        var colon = listen.LastIndexOf(':');
        return (listen[..colon], int.Parse(listen[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Subscribes the meter to the journal and starts the endpoints now, before the supervisor's first fork: a
    /// histogram measurement recorded before the MeterProvider exists is dropped, and a port already taken must
    /// stop clusterd from starting rather than leave it running unobserved (or unprobed). Returns why it could not
    /// start, or null.
    /// </summary>
    public static string? Start(IServiceProvider services, string listen)
    {
        services.GetRequiredService<ClusterdMetrics>();
        try
        {
            services.GetRequiredService<MeterProvider>(); // the exporter binds the port: a taken one fails here
            services.GetRequiredService<HealthEndpoints>().Start();
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or HttpListenerException)
        {
            var cause = e.InnerException?.Message ?? e.Message;
            return $"cannot serve metrics on {listen} ([metrics] listen): {cause}";
        }
    }
}
