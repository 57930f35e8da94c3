using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Orleans.Rft.Silo.Http;

namespace Orleans.Rft.Dashboard.Tests;

/// <summary>The browser surfaces (/, /dashboard, /orleans, /metrics) behind the silo's API key, over plain HTTP.</summary>
[Collection(DashboardCollection.Name)]
public sealed class DashboardAuthTests(DashboardFixture fx)
{
    static readonly string[] Guarded = ["/", "/dashboard/app.js", "/dashboard/vendor/uPlot.iife.min.js", "/orleans/", "/metrics"];

    HttpClient Anonymous(bool cookies = false, CookieContainer? jar = null) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = cookies, CookieContainer = jar ?? new CookieContainer() })
        { BaseAddress = fx.BaseUrl, Timeout = TimeSpan.FromSeconds(60) };

    [Fact]
    public async Task EveryBrowserSurfaceRefusesARequestWithoutKeyOrCookieAndServesOneWithTheKey()
    {
        using var anonymous = Anonymous();
        foreach (var path in Guarded)
        {
            using var refused = await anonymous.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            var error = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!;
            Assert.Equal("invalid_api_key", (string?)error["code"]);
            using var served = await fx.Http.GetAsync(path);
            Assert.True(served.IsSuccessStatusCode, $"{path} with the key: {served.StatusCode}");
        }
        // a person opening the page is sent to the login instead
        using var page = new HttpRequestMessage(HttpMethod.Get, "/");
        page.Headers.Accept.ParseAdd("text/html");
        using var redirected = await anonymous.SendAsync(page);
        Assert.Equal(HttpStatusCode.Redirect, redirected.StatusCode);
        Assert.Equal(DashboardAuth.LoginPath, redirected.Headers.Location!.OriginalString);
        using var login = await anonymous.GetAsync(DashboardAuth.LoginPath);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        Assert.Contains("Content-Security-Policy", login.Headers.Select(h => h.Key));
    }

    [Fact]
    public async Task TheLoginCookieIsHttpOnlyStrictNotTheKeyAndOpensReadsOnly()
    {
        var jar = new CookieContainer();
        using var browser = Anonymous(cookies: true, jar);
        using (var wrong = await browser.PostAsync(DashboardAuth.LoginPath, new FormUrlEncodedContent([new("key", "sk-not-a-key")])))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.Empty(jar.GetCookies(fx.BaseUrl));
        }
        using var login = await browser.PostAsync(DashboardAuth.LoginPath, new FormUrlEncodedContent([new("key", DashboardFixture.Key)]));
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var setCookie = login.Headers.GetValues("Set-Cookie").Single();
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(DashboardFixture.Key, setCookie);
        Assert.DoesNotContain(DashboardFixture.Key.Split('-')[^1], setCookie);

        foreach (var path in Guarded.Append("/v1/rft/jobs"))
        {
            using var read = await browser.GetAsync(path);
            Assert.True(read.IsSuccessStatusCode, $"{path} with the login cookie: {read.StatusCode}");
        }
        // the cookie is no key for anything that acts: a cross-site form could not use it even if a browser sent it
        using var chat = await browser.PostAsync("/v1/chat/completions", new StringContent("""{"model":"toy","messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, chat.StatusCode);
        using var models = await browser.GetAsync("/v1/models"); // a read outside the jobs API: the key only
        Assert.Equal(HttpStatusCode.Unauthorized, models.StatusCode);

        var cookie = jar.GetCookies(fx.BaseUrl)[DashboardSession.CookieName]!.Value;
        using var forged = Anonymous();
        using var tampered = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        tampered.Headers.Add("Cookie", $"{DashboardSession.CookieName}={cookie[..^2]}AA");
        Assert.Equal(HttpStatusCode.Unauthorized, (await forged.SendAsync(tampered)).StatusCode);

        using var logout = await browser.PostAsync(DashboardAuth.LogoutPath, null);
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        using var after = await browser.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task ALoginPostedFromAnotherSitesPageIsRefused()
    {
        foreach (var (header, value) in new[] { ("Origin", "http://evil.example"), ("Sec-Fetch-Site", "cross-site") })
        {
            using var client = Anonymous();
            using var request = new HttpRequestMessage(HttpMethod.Post, DashboardAuth.LoginPath) { Content = new FormUrlEncodedContent([new("key", DashboardFixture.Key)]) };
            request.Headers.Add(header, value);
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.False(response.Headers.Contains("Set-Cookie"), header);
        }
    }

    [Fact]
    public async Task APrometheusScrapeCarriesTheJobsStepCounter()
    {
        await fx.WaitForSteps(2, TimeSpan.FromMinutes(5));
        // the exporter caches a rendering for a second; a step recorded just now shows on a scrape after it
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        string text;
        double steps;
        do
        {
            using var response = await fx.Http.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.MediaType);
            text = await response.Content.ReadAsStringAsync();
            steps = text.Split('\n').Where(l => l.StartsWith("rft_steps_total{", StringComparison.Ordinal))
                .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
            if (steps >= 2) break;
            await Task.Delay(500);
        } while (DateTime.UtcNow < deadline);
        Assert.True(steps >= 2, $"rft_steps_total is {steps} after the job's 2 steps; the scrape:\n{text[..Math.Min(text.Length, 3000)]}");
        Assert.Contains("# TYPE rft_step_duration_seconds histogram", text);
        Assert.Contains("phase=\"rollout\"", text);
    }

    [Fact]
    public async Task TheOrleansDashboardIsServedUnderOrleans()
    {
        using var page = await fx.Http.GetAsync("/orleans/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("Orleans Dashboard", html);
        using var script = await fx.Http.GetAsync("/orleans/index.min.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.True((await script.Content.ReadAsByteArrayAsync()).Length > 10_000);
    }
}
