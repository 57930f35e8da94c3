using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// The dashboard's pages: <c>GET /</c> (one page: the jobs list, a job's curves and its rollouts, read from
/// the jobs API under <c>/v1/rft</c> by the browser), <c>GET /dashboard/{file}</c> (its scripts, styles and
/// uPlot, from <see cref="DashboardAssets"/>), and the login that trades an API key for the cookie of
/// <see cref="DashboardSession"/>. <see cref="DashboardAuth"/> guards them all but the login.
/// Every page is sent with a Content-Security-Policy that runs only this silo's own scripts, so a
/// model-written string that slipped into the page as markup still could not run (the scripts also
/// write such strings as text only, never as HTML).
/// </summary>
public static class DashboardApi
{
    /// <summary>Own scripts and styles only, no inline script, no frames, requests to this origin only (the page works with the network closed).</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    /// <summary>A login form is a key and a few bytes more.</summary>
    public const int MaxLoginBodyBytes = 8 * 1024;
    const string ErrorMarker = "<!--error-->";

    public static IEndpointRouteBuilder MapDashboardApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", (HttpContext http, DashboardAssets assets) => Serve(http, assets, "index.html"));
        app.MapGet(DashboardAuth.LoginPath, LoginPage);
        app.MapPost(DashboardAuth.LoginPath, Login);
        app.MapPost(DashboardAuth.LogoutPath, Logout);
        app.MapGet("/dashboard/session", (ApiKeys keys) => TypedResults.Json(new { keys_required = keys.Required }));
        app.MapGet("/dashboard/{**file}", (string file, HttpContext http, DashboardAssets assets) => Serve(http, assets, file));
        return app;
    }

    static IResult Serve(HttpContext http, DashboardAssets assets, string name)
    {
        // a lookup in the embedded set, never a path on disk: nothing outside it can be named
        if (name == "login.html" || assets.Find(name) is not { } asset)
            return TypedResults.Json(OpenAIError.Body($"No dashboard file {http.Request.Path}.", "invalid_request_error", null, "not_found"), statusCode: StatusCodes.Status404NotFound);
        SecurityHeaders(http.Response);
        var html = asset.ContentType.StartsWith("text/html", StringComparison.Ordinal);
        // pages are not kept (they are behind a key); files are revalidated by ETag, so an upgraded silo's are seen at once
        http.Response.Headers.CacheControl = html ? "no-store" : "no-cache";
        http.Response.Headers.ETag = asset.ETag;
        if (!html && http.Request.Headers.IfNoneMatch == asset.ETag) return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        return TypedResults.Bytes(asset.Content, asset.ContentType);
    }

    static IResult LoginPage(HttpContext http, ApiKeys keys, DashboardAssets assets) =>
        keys.Required ? LoginHtml(http, assets, null, StatusCodes.Status200OK) : TypedResults.Redirect("/");

    static IResult LoginHtml(HttpContext http, DashboardAssets assets, string? error, int status)
    {
        SecurityHeaders(http.Response);
        http.Response.Headers.CacheControl = "no-store";
        var page = Encoding.UTF8.GetString(assets.Find("login.html")!.Content);
        // error is one of this file's constant sentences, never request text
        page = page.Replace(ErrorMarker, error is null ? "" : $"<p class=\"error\" role=\"alert\">{error}</p>");
        return TypedResults.Content(page, "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    static async Task<IResult> Login(HttpContext http, ApiKeys keys, DashboardSession session, DashboardAssets assets)
    {
        if (!keys.Required) return TypedResults.Redirect("/", permanent: false, preserveMethod: false);
        if (!SameOrigin(http.Request))
            return LoginHtml(http, assets, "This login came from another site's page; open this silo's login page and try again.", StatusCodes.Status403Forbidden);
        if (!http.Request.HasFormContentType || http.Request.ContentLength is null or > MaxLoginBodyBytes)
            return LoginHtml(http, assets, "The login form was not sent as a form of at most 8 KiB.", StatusCodes.Status400BadRequest);
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var key = form["key"].ToString();
        if (key.Length == 0) return LoginHtml(http, assets, "Enter an API key.", StatusCodes.Status400BadRequest);
        if (session.Mint(key) is not { } cookie) return LoginHtml(http, assets, "That is not one of this silo's API keys (Rft:ApiKeys).", StatusCodes.Status401Unauthorized);
        http.Response.Cookies.Append(DashboardSession.CookieName, cookie, new CookieOptions
        {
            HttpOnly = true,                     // no script (nor an injected one) reads it
            SameSite = SameSiteMode.Strict,      // no other site's page makes the browser send it
            Secure = http.Request.IsHttps,       // over HTTPS, never sent in clear afterwards
            Path = "/",
            MaxAge = DashboardSession.Lifetime,
        });
        return TypedResults.Redirect("/"); // 302 after a POST: the browser GETs the dashboard
    }

    static IResult Logout(HttpContext http)
    {
        if (!SameOrigin(http.Request)) return TypedResults.StatusCode(StatusCodes.Status403Forbidden);
        http.Response.Cookies.Delete(DashboardSession.CookieName, new CookieOptions { Path = "/", HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = http.Request.IsHttps });
        return TypedResults.Redirect(DashboardAuth.LoginPath);
    }

    /// <summary>
    /// A form post from this silo's own page (login CSRF: another site must not log a visitor in under its
    /// key); a client that is no browser page (curl) is not being steered.
    /// </summary>
    static bool SameOrigin(HttpRequest request) => !OpenEndpointGuard.FromAnotherSite(request);

    static void SecurityHeaders(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.XFrameOptions = "DENY";
        // not no-referrer: under it a browser sends "Origin: null" on the login post, which SameOrigin must refuse
        response.Headers["Referrer-Policy"] = "same-origin";
    }
}
