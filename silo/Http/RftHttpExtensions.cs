using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Dashboard;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// The silo's OpenAI-compatible HTTP surface, for any host that also runs the silo
/// (<c>UseOrleans(s =&gt; s.AddRft(options))</c>): the silo host, <c>rft serve</c> and the tests.
/// <code>
/// var builder = WebApplication.CreateBuilder(args);
/// builder.UseOrleans(silo =&gt; silo.AddRft(options));
/// builder.AddRftHttp(options);      // Kestrel on Rft:HttpPort (loopback only without API keys) + services
/// var app = builder.Build();
/// app.MapRftHttp();                 // /healthz, /readyz, /v1/models, /v1/chat/completions, /v1/completions, /rollouts/{id}/v1/…, /logs,
///                                   // the dashboard at /, the Orleans dashboard at /orleans, Prometheus at /metrics
/// await app.RunAsync();
/// </code>
/// </summary>
public static class RftHttpExtensions
{
    /// <summary>Kestrel on <see cref="RftSiloOptions.HttpPort"/> and the endpoint's services. Replace <see cref="IDeployedModels"/> after this call to serve another list of deployments.</summary>
    public static WebApplicationBuilder AddRftHttp(this WebApplicationBuilder builder, RftSiloOptions options)
    {
        options.Validate();
        if (options.HttpPort == 0) throw new InvalidOperationException("Rft:HttpPort is 0 (the HTTP endpoint is off); host the silo without AddRftHttp, or give a port.");
        var keys = new ApiKeys(options);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            if (options.HttpsPort != 0) RftHttps.Listen(kestrel, options, anyAddress: keys.Required);
            else if (keys.Required) kestrel.ListenAnyIP(options.HttpPort);
            else kestrel.ListenLocalhost(options.HttpPort); // no key: nothing beyond this machine may call it
        });
        var services = builder.Services;
        services.AddSingleton(keys);
        services.AddSingleton(new AgentLogKeys(options));
        // What a judge without base_url calls (the grains read it, EvaluatorGrain.OwnEndpoint): this endpoint over loopback.
        services.AddSingleton(Orleans.Rft.Evaluators.ClusterEndpoint.Serving(new Uri($"http://127.0.0.1:{options.HttpPort}/v1"), keys.Internal));
        services.AddSingleton<IDeployedModels, GrainDeployedModels>();
        services.AddSingleton<ModelCatalog>();
        services.AddSingleton<ModelLeases>();
        services.AddSingleton<ModelFilesCache>();
        services.AddSingleton(sp => new DeviceBalancer(sp.GetRequiredService<Orleans.Rft.Grains.Services.DeviceRegistry>()));
        services.AddSingleton<ChoiceGeneration>();
        services.AddHostedService<HttpStartLog>();
        // Browser surfaces (DashboardApi, /orleans, /metrics), behind the same keys (DashboardAuth).
        services.AddSingleton<DashboardAssets>();
        services.AddSingleton<DashboardSession>();
        services.AddRftPrometheus(options);
        // The same silo builder as the host's UseOrleans(AddRft) (Orleans keeps one per host). Its live log
        // stream is off: serving clients hold the same keys, and those logs are not redacted like the console's.
        builder.UseOrleans(silo => silo.AddDashboard(d => d.HideTrace = true));
        return builder;
    }

    /// <summary>
    /// Health endpoints (no key), the <c>/v1</c> group behind the API key check, with errors in OpenAI's
    /// shape, and the remote agents' routes (<see cref="RolloutsApi"/>: a rollout's token; <see cref="RolloutLogsApi"/>: an agent log key or a rollout's token).
    /// </summary>
    public static IEndpointRouteBuilder MapRftHttp(this IEndpointRouteBuilder app)
    {
        // The key check of /, /dashboard, /orleans and /metrics runs on the request pipeline (see DashboardAuth for why);
        // a host that is not a pipeline would serve them open, so it is refused instead.
        if (app is not IApplicationBuilder pipeline)
            throw new InvalidOperationException("MapRftHttp needs the WebApplication itself (it adds the dashboard's key check to the request pipeline).");
        pipeline.Use(OpenEndpointGuard.Middleware); // without keys: loopback names only, no cross-site writes (DNS rebinding, CSRF)
        pipeline.Use(DashboardAuth.Middleware);
        app.MapDashboardApi();
        app.MapOrleansDashboard(DashboardAuth.OrleansPath);
        app.MapRftPrometheus();
        app.MapHealthApi();
        var v1 = app.MapGroup("/v1");
        v1.AddEndpointFilter((context, next) => ApiKeys.Filter(context, next));
        v1.AddEndpointFilter((context, next) => OpenAIErrors.Filter(context, next));
        v1.MapModelsApi();
        v1.MapChatCompletionsApi();
        v1.MapCompletionsApi();
        v1.MapJobsApi();
        v1.MapFallback("{*path}", UnknownPath); // behind the key check too, so it tells nothing to a caller without one
        // Remote agents: outside the key check, each route checks the rollout's own token (or, for logs, an Rft:AgentLogKeys key).
        app.MapRolloutsApi();
        app.MapRolloutLogsApi();
        return app;
    }

    /// <summary>Any other <c>/v1</c> path or method: 404 in OpenAI's shape (ASP.NET's own 404/405 have no body).</summary>
    static IResult UnknownPath(HttpContext http) =>
        new OpenAIError(StatusCodes.Status404NotFound, $"Unknown request URL: {http.Request.Method} {http.Request.Path}. This server serves GET /v1/models, POST /v1/chat/completions, POST /v1/completions and the jobs API under /v1/rft (GET /v1/rft/openapi.json lists it).",
            null, "invalid_request_error", "unknown_url").ToResult();

    /// <summary>Says at start where the endpoint listens, and loudly when it is loopback-only for want of keys.</summary>
    sealed class HttpStartLog(RftSiloOptions options, ApiKeys keys, ILogger<HttpStartLog> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            if (keys.Required) logger.LogListening(options.HttpPort, keys.Count, string.Join(", ", options.Models.Keys.Concat(options.Adapters.Keys)));
            else logger.LogLoopbackOnly(options.HttpPort);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
