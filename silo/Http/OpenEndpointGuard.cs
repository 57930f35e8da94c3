using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// Without API keys the endpoint is open on loopback, which is only as private as the browsers on the
/// machine are kept out of it. Any web page a user opens can send it requests: a cross-site POST needs
/// no CORS permission to be carried out (a no-cors <c>fetch</c> to <c>/v1/rft/jobs/{id}:cancel</c>
/// cancelled the job), and a page whose name was rebound to 127.0.0.1 (DNS rebinding) reads every answer.
/// So, with no keys only: a request must be addressed to a loopback name (the Host header a rebound page
/// sends is its own name), and a request that changes anything must not come from another site's page
/// (Sec-Fetch-Site, Origin). With keys a browser cannot send the Bearer key cross-site, and the
/// dashboard's cookie opens reads only (<see cref="DashboardAuth"/>), so nothing here applies.
/// </summary>
public static class OpenEndpointGuard
{
    public static async Task Middleware(HttpContext http, RequestDelegate next)
    {
        var keys = http.RequestServices.GetRequiredService<ApiKeys>();
        if (keys.Required) { await next(http); return; }
        if (!IsLoopbackName(http.Request.Host.Host))
        {
            await Refuse(http, $"This silo takes no API keys, so it answers only requests addressed to localhost, 127.0.0.1 or [::1], not '{http.Request.Host.Host}' (a page of another site rebound to this machine sends its own name). Call it by a loopback address, or configure Rft:ApiKeys.", "host_not_loopback");
            return;
        }
        if (!IsRead(http.Request.Method) && FromAnotherSite(http.Request))
        {
            await Refuse(http, $"A {http.Request.Method} from another site's page ({http.Request.Headers.Origin}) is refused: this silo takes no API keys, so any page could otherwise change its jobs. Send it from a client that is not a browser page, or configure Rft:ApiKeys.", "cross_site_request");
            return;
        }
        await next(http);
    }

    static bool IsRead(string method) => HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method);

    /// <summary>The names a loopback-only listener is reached by; a name that merely resolves to 127.0.0.1 is what a rebinding page uses.</summary>
    public static bool IsLoopbackName(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
        || host == "[::1]" || host == "::1"
        || (System.Net.IPAddress.TryParse(host, out var ip) && System.Net.IPAddress.IsLoopback(ip));

    /// <summary>
    /// Browsers send Sec-Fetch-Site on every request and Origin on every POST; a client that sends neither (curl, the console) is not a page.
    /// The authority is compared, not the scheme, so a TLS-terminating proxy in front still counts as this site.
    /// </summary>
    public static bool FromAnotherSite(HttpRequest request)
    {
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0 && site is not ("same-origin" or "none")) return true;
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0) return false;
        return !(Uri.TryCreate(origin, UriKind.Absolute, out var uri) && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase));
    }

    static Task Refuse(HttpContext http, string message, string code) =>
        OpenAIErrors.WriteAsync(http, new OpenAIError(StatusCodes.Status403Forbidden, message, null, "invalid_request_error", code));
}
