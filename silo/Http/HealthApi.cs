using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans.Rft.Grains.Services;
using Orleans.Runtime;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// <c>GET /healthz</c>: the process answers (liveness). <c>GET /readyz</c>: this silo is active in the
/// cluster's membership and has its device workers, so it can take requests (readiness); 503
/// otherwise, saying which. Neither needs an API key: orchestrators probe them.
/// </summary>
public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Json(new { status = "ok" }));
        app.MapGet("/readyz", (IClusterMembershipService membership, ILocalSiloDetails silo, DeviceRegistry devices) =>
        {
            var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
            var ready = status == SiloStatus.Active && devices.Names.Count > 0;
            return TypedResults.Json(new { status = ready ? "ready" : "not ready", silo = status.ToString(), devices = devices.Names.ToArray() },
                statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        return app;
    }
}
