using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orleans.Rft.Grains.Telemetry;

namespace Orleans.Rft.Silo;

/// <summary>
/// Exports the <c>Orleans.Rft</c> step metrics and <c>rft.step</c> traces, with Orleans' own meter
/// and grain-call activities, to an OTLP collector when one is configured
/// (<see cref="RftSiloOptions.OtlpEndpoint"/> or <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>), and, on a silo
/// with an HTTP endpoint, the same meters to a Prometheus scraper at <c>GET /metrics</c>
/// (<see cref="AddRftPrometheus"/>; both readers hang off the one meter provider).
/// </summary>
public static class RftOpenTelemetry
{
    /// <summary>Orleans' meter and its activity sources (runtime and application grain calls).</summary>
    static readonly string[] OrleansMeters = ["Microsoft.Orleans"];
    static readonly string[] OrleansSources = ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application"];

    /// <summary>The collector endpoint in effect, or null when telemetry is not exported.</summary>
    public static Uri? Endpoint(RftSiloOptions options)
    {
        var endpoint = string.IsNullOrEmpty(options.OtlpEndpoint) ? Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT") : options.OtlpEndpoint;
        return string.IsNullOrEmpty(endpoint) ? null : new Uri(endpoint);
    }

    public static bool AddRftOpenTelemetry(this IServiceCollection services, RftSiloOptions options)
    {
        if (Endpoint(options) is not { } endpoint) return false;
        var http = options.OtlpProtocol == "http";
        // With http/protobuf a programmatic endpoint is used as is, so the signal path is added here
        // (the environment-variable route appends it itself).
        void Configure(OtlpExporterOptions o, string signal)
        {
            o.Protocol = http ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
            o.Endpoint = http ? new Uri(endpoint, endpoint.AbsolutePath.TrimEnd('/') + "/v1/" + signal) : endpoint;
        }
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(options.ServiceId, serviceInstanceId: $"{Environment.MachineName}:{options.SiloPort}"))
            .WithMetrics(m => m
                .AddMeter([RftTelemetry.Name, .. OrleansMeters])
                .AddOtlpExporter((o, reader) =>
                {
                    Configure(o, "metrics");
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = options.MetricsExportIntervalSeconds * 1000;
                }))
            .WithTracing(t => t
                .AddSource([RftTelemetry.Name, .. OrleansSources])
                .AddOtlpExporter(o => Configure(o, "traces")));
        return true;
    }

    /// <summary>The scrape path (behind the API key when keys are configured: Http/DashboardAuth).</summary>
    public const string PrometheusPath = "/metrics";

    /// <summary>A Prometheus reader on the host's meter provider, for the meters the OTLP export carries.</summary>
    public static IServiceCollection AddRftPrometheus(this IServiceCollection services, RftSiloOptions options)
    {
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(options.ServiceId, serviceInstanceId: $"{Environment.MachineName}:{options.SiloPort}"))
            .WithMetrics(m => m
            .AddMeter([RftTelemetry.Name, .. OrleansMeters])
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 1000)); // scrapes within a second share one rendering
        return services;
    }

    /// <summary><c>GET /metrics</c> in Prometheus' text format.</summary>
    public static IEndpointConventionBuilder MapRftPrometheus(this IEndpointRouteBuilder app) => app.MapPrometheusScrapingEndpoint(PrometheusPath);
}
