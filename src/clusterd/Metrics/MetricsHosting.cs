using System.Globalization;
using Clusterd.Supervision;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Clusterd.Metrics;

/// <summary>Wires <see cref="ClusterdMetrics"/> and the Prometheus endpoint into the host when <c>[metrics] listen</c> is set.</summary>
internal static class MetricsHosting
{
    /// <summary>Registers the meter and a <c>/metrics</c> endpoint on <paramref name="listen"/> ("IPv4:PORT" or "[IPv6]:PORT", validated by the config).</summary>
    public static IServiceCollection AddClusterdMetrics(this IServiceCollection services, string listen)
    {
        var colon = listen.LastIndexOf(':');
        var host = listen[..colon];
        var port = int.Parse(listen[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture);
        services.AddSingleton(sp => new ClusterdMetrics(sp.GetRequiredService<Supervisor>()));
        services.AddSingleton<Clusterd.Supervision.IReloadListener>(sp => sp.GetRequiredService<ClusterdMetrics>());
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("clusterd")) // target_info's service_name, instead of unknown_service:clusterd
            .WithMetrics(metrics => metrics
            .AddMeter(ClusterdMetrics.MeterName)
            .AddPrometheusHttpListener(o =>
            {
                o.Host = host;
                o.Port = port;
            }));
        return services;
    }

    /// <summary>
    /// Subscribes the meter to the journal and starts the endpoint now, before the supervisor's first fork: a
    /// histogram measurement recorded before the MeterProvider exists is dropped, and a port already taken must
    /// stop clusterd from starting rather than leave it running unobserved. Returns why it could not start, or null.
    /// </summary>
    public static string? Start(IServiceProvider services, string listen)
    {
        if (listen.StartsWith('[') || listen.StartsWith("0.0.0.0:", StringComparison.Ordinal))
        {
            // .NET's managed HttpListener, which the exporter runs on outside Windows, rejects IPv6 literal prefixes
            // ("Invalid port in prefix") and the wildcard ("The request is not supported"). Say so instead of relaying that.
            return $"cannot serve metrics on {listen} ([metrics] listen): the Prometheus endpoint needs one IPv4 address (not :: or 0.0.0.0); use e.g. \"127.0.0.1:9464\"";
        }
        services.GetRequiredService<ClusterdMetrics>();
        try
        {
            services.GetRequiredService<MeterProvider>();
            return null;
        }
        catch (InvalidOperationException e)
        {
            var cause = e.InnerException?.Message ?? e.Message;
            return $"cannot serve metrics on {listen} ([metrics] listen): {cause}";
        }
    }
}
