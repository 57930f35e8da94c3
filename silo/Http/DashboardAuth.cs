using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// The key check of the browser surfaces: the dashboard (<c>/</c>, <c>/dashboard/…</c>), the Orleans
/// dashboard (<c>/orleans…</c>) and Prometheus (<c>/metrics</c>). A middleware over paths rather than an
/// endpoint filter, because the Orleans dashboard's and the Prometheus exporter's endpoints are not
/// route handlers (filters would skip them), and a path check also refuses what no endpoint matches.
/// With keys configured a request passes with <c>Authorization: Bearer &lt;key&gt;</c> (any method), or with the
/// login cookie (<see cref="DashboardSession"/>) on GET/HEAD only; a page load without either is sent
/// to the login page, anything else gets OpenAI's 401. Without keys the endpoint is loopback-only and open.
/// </summary>
public static class DashboardAuth
{
    public const string LoginPath = "/dashboard/login";
    public const string LogoutPath = "/dashboard/logout";
    public const string OrleansPath = "/orleans";
    /// <summary>What the login page itself needs before there is a session.</summary>
    static readonly string[] Public = [LoginPath, LogoutPath, "/dashboard/login.css"];

    /// <summary>Whether <paramref name="path"/> is one of the browser surfaces this check guards.</summary>
    public static bool Guards(PathString path) =>
        (path == "/" || path.StartsWithSegments("/dashboard") || path.StartsWithSegments(OrleansPath) || path.StartsWithSegments(RftOpenTelemetry.PrometheusPath))
        && !Public.Any(p => path.Equals(p, StringComparison.OrdinalIgnoreCase));

    /// <summary>A read (GET/HEAD) with a valid login cookie, on a path the cookie may open: the browser surfaces and the jobs API's reads under /v1/rft.</summary>
    public static bool SessionOpens(HttpContext http)
    {
        if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method)) return false;
        if (!Guards(http.Request.Path) && !http.Request.Path.StartsWithSegments("/v1/rft")) return false;
        return http.Request.Cookies.TryGetValue(DashboardSession.CookieName, out var cookie)
            && http.RequestServices.GetService<DashboardSession>() is { } session && session.Accepts(cookie);
    }

    public static async Task Middleware(HttpContext http, RequestDelegate next)
    {
        if (!Guards(http.Request.Path)) { await next(http); return; }
        // no other site may frame these pages (clickjacking), nor a browser guess a type (the Orleans dashboard's pages set neither)
        http.Response.Headers.XFrameOptions = "DENY";
        http.Response.Headers.XContentTypeOptions = "nosniff";
        var keys = http.RequestServices.GetRequiredService<ApiKeys>();
        if (!keys.Required || keys.Accepts(http.Request.Headers.Authorization) || SessionOpens(http)) { await next(http); return; }
        if (HttpMethods.IsGet(http.Request.Method) && http.Request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase))
        {
            http.Response.Redirect(LoginPath); // a person at a browser: let them log in (always back to "/" after, so no open redirect)
            return;
        }
        http.Response.Headers.WWWAuthenticate = "Bearer";
        await OpenAIErrors.WriteAsync(http, new OpenAIError(StatusCodes.Status401Unauthorized,
            $"Missing or incorrect API key for {http.Request.Path}: send 'Authorization: Bearer <key>' with a key from the silo's Rft:ApiKeys, or log in at {LoginPath}.",
            null, "invalid_request_error", "invalid_api_key"));
    }
}
