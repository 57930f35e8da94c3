using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Orleans.Rft.GrainInterfaces;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Orleans.Rft.Dashboard.Tests;

/// <summary>
/// The dashboard in headless Chromium against a silo running a job: the login, the jobs list, the curves
/// (their plotted points read back from uPlot and compared with <c>/v1/rft/jobs/{id}/metrics</c>), the live
/// updates, and the rollout browser. Screenshots land in <see cref="DashboardFixture.ScreenshotDir"/>.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class DashboardBrowserTests(DashboardFixture fx, ITestOutputHelper output) : IAsyncLifetime
{
    readonly string profile = Path.Combine(Path.GetTempPath(), "orleans-rft-chromium-" + Guid.NewGuid().ToString("N")[..8]);
    IPlaywright playwright = null!;
    IBrowserContext browser = null!;
    /// <summary>Requests the page tried to send anywhere but the silo: none may happen (no CDN, nothing fetched at run time).</summary>
    readonly List<string> offOrigin = [];
    /// <summary>Script errors and console errors (a Content-Security-Policy violation is one).</summary>
    readonly List<string> errors = [];

    public async Task InitializeAsync()
    {
        (playwright, browser) = await Chromium.LaunchAsync(profile);
        SetDefaultExpectTimeout(60_000);
        await browser.RouteAsync("**/*", async route =>
        {
            var url = new Uri(route.Request.Url);
            if (url.Scheme is "http" or "https" && url.Authority != fx.BaseUrl.Authority)
            {
                lock (offOrigin) offOrigin.Add(route.Request.Url);
                await route.AbortAsync();
            }
            else await route.ContinueAsync();
        });
    }

    /// <summary>The login post itself (its 401 for the wrong key is the test's own doing), not the login page's files.</summary>
    static readonly System.Text.RegularExpressions.Regex WrongKeyPost = new(@"/dashboard/login(:\d+)*$");

    async Task<IPage> OpenPage()
    {
        var page = await browser.NewPageAsync();
        // (the login page's 401 for the wrong key the test types is expected)
        page.Console += (_, m) => { if (m.Type == "error" && !WrongKeyPost.IsMatch(m.Location)) lock (errors) errors.Add($"console: {m.Text} ({m.Location})"); };
        page.PageError += (_, e) => { lock (errors) errors.Add("page: " + e); };
        page.Response += (_, r) => { if (r.Status >= 400 && !(r.Request.Method == "POST" && WrongKeyPost.IsMatch(r.Url))) lock (errors) errors.Add($"HTTP {r.Status} {r.Request.Method} {r.Url}"); };
        return page;
    }

    async Task LogIn(IPage page)
    {
        await page.GotoAsync(fx.BaseUrl.ToString());
        Assert.EndsWith("/dashboard/login", page.Url); // the dashboard is behind the key
        await page.FillAsync("#key", "sk-not-the-key");
        await page.ClickAsync("button[type=submit]");
        await Expect(page.Locator("[role=alert]")).ToContainTextAsync("not one of this silo's API keys");
        await page.FillAsync("#key", DashboardFixture.Key);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(fx.BaseUrl.ToString());
        var cookie = (await browser.CookiesAsync()).Single(c => c.Name == Silo.Http.DashboardSession.CookieName);
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.DoesNotContain(DashboardFixture.Key, cookie.Value);
    }

    [Fact]
    public async Task TheDashboardListsTheRunningJobPlotsItsRealMetricsLiveAndOpensARollout()
    {
        await fx.WaitForSteps(3, TimeSpan.FromMinutes(5));
        var page = await OpenPage();
        await LogIn(page);

        // the jobs list: the running job, its state and progress
        var row = page.Locator($"tr[data-job-id='{DashboardFixture.RunningJobId}']");
        await Expect(row).ToContainTextAsync("running");
        await Expect(row.Locator("td").Nth(1)).ToHaveTextAsync("dashboard-toy");
        Assert.Equal(DashboardFixture.RunningJobSteps.ToString(), await row.Locator("progress").GetAttributeAsync("max"));
        Directory.CreateDirectory(DashboardFixture.ScreenshotDir);
        await page.ScreenshotAsync(new() { Path = Path.Combine(DashboardFixture.ScreenshotDir, "jobs.png") });

        // the job's page: every curve plots the API's own rows
        await row.Locator("a").ClickAsync();
        await page.WaitForFunctionAsync("() => window.rftDashboard.charts.reward && window.rftDashboard.charts.reward.data[0].length >= 3");
        var before = Rows(await fx.GetJson($"/v1/rft/jobs/{DashboardFixture.RunningJobId}/metrics"));
        // The page follows the event stream, which polls the job each second: give it those polls to show what the API listed.
        await page.WaitForFunctionAsync($"() => window.rftDashboard.charts.reward.data[0].length >= {before.Count}", null, new() { Timeout = 30_000 });
        var plotted = await Plotted(page);
        var after = Rows(await fx.GetJson($"/v1/rft/jobs/{DashboardFixture.RunningJobId}/metrics"));
        AssertPlotsTheApi(plotted, before, after);
        Assert.True(await InkedPixels(page, "reward") > 200, "the reward chart's canvas is blank");
        Assert.True(await InkedPixels(page, "time") > 200, "the step-time chart's canvas is blank");

        // live: new steps arrive over the event stream, without reloading the page
        int shown = plotted.Steps.Length;
        await page.WaitForFunctionAsync($"() => window.rftDashboard.charts.reward.data[0].length >= {shown + 2}", null, new() { Timeout = 240_000 });
        var later = await Plotted(page);
        AssertPlotsTheApi(later, before, Rows(await fx.GetJson($"/v1/rft/jobs/{DashboardFixture.RunningJobId}/metrics")));
        await Expect(page.Locator("#job-live")).ToHaveTextAsync("live");

        // the rollout browser: the best and worst samples of a step, one opened
        await Expect(page.Locator("#rollout-summary")).ToContainTextAsync("rollouts it trained on");
        Assert.True(await page.Locator("#rollouts-best li button").CountAsync() > 0, await page.Locator("#rollout-summary").TextContentAsync() + " | " + string.Join("\n", errors));
        var step = int.Parse(await page.InputValueAsync("#rollout-step"));
        var k = int.Parse(await page.InputValueAsync("#rollout-k"));
        // the page counts steps like the charts (trained steps from 1), the rollouts API the steps that produced them (from 0)
        var api = await fx.GetJson($"/v1/rft/jobs/{DashboardFixture.RunningJobId}/rollouts?step={step - 1}&best={k}&worst={k}");
        Assert.Equal(step - 1, (int)api["step"]!);
        var best = api["data"]!.AsArray().OrderByDescending(r => (double)r!["reward"]!).First()!;
        var worst = api["data"]!.AsArray().OrderBy(r => (double)r!["reward"]!).First()!;
        Assert.Equal(Math.Min(k, (int)api["total"]!), await page.Locator("#rollouts-best li").CountAsync());
        await page.Locator("#rollouts-worst li button").First.ClickAsync();
        await Expect(page.Locator("#rollout-detail pre.completion")).ToHaveTextAsync((string)worst["completion"]!);
        await page.Locator("#rollouts-best li button").First.ClickAsync();
        var detail = page.Locator("#rollout-detail");
        await Expect(detail.Locator("pre.completion")).ToHaveTextAsync((string)best["completion"]!);
        await Expect(detail.Locator("pre.reason")).ToHaveTextAsync((string)best["reason"]!);
        Assert.Equal(best["metrics"]!.AsObject().Count, await detail.Locator("table.metrics tr").CountAsync());
        await Expect(detail.Locator("h3").First).ToContainTextAsync($"step {step}, row {(int)best["row"]!}, sample {(int)best["sample"]!}");

        var shot = Path.Combine(DashboardFixture.ScreenshotDir, "job.png");
        await page.ScreenshotAsync(new() { Path = shot, FullPage = true });
        output.WriteLine($"screenshots: {shot} and jobs.png beside it; plotted {later.Steps.Length} steps, rollouts of step {step}");
        Assert.Empty(offOrigin);
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    [Fact]
    public async Task AJobNameWrittenAsMarkupIsShownAsTextAndNeverRuns()
    {
        const string name = "<img src=x onerror=\"window.rftXss=1\"><script>window.rftXss=2</script>";
        var id = "dash-markup";
        await fx.Grains.GetGrain<IJobGrain>(id).Submit(fx.Toy.Spec(name, trainers: 1, maxSteps: 1));
        await fx.Grains.GetGrain<IJobGrain>(id).Cancel();
        var page = await OpenPage();
        await LogIn(page);
        var cell = page.Locator($"tr[data-job-id='{id}'] td").Nth(1);
        await Expect(cell).ToHaveTextAsync(name);
        Assert.Equal(0, await page.Locator("table.jobs img, table.jobs script").CountAsync());
        await page.GotoAsync(fx.BaseUrl + "#/jobs/" + id);
        await Expect(page.Locator("#job-name")).ToHaveTextAsync(name);
        Assert.Equal(0, await page.Locator("#job-view img, #job-view script").CountAsync());
        Assert.Null(await page.EvaluateAsync<int?>("() => window.rftXss ?? null"));
        Assert.Empty(offOrigin);
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    [Fact]
    public async Task TheOrleansDashboardUnderOrleansRendersTheClusterWithTheLoginCookie()
    {
        var page = await OpenPage();
        await LogIn(page);
        await page.GotoAsync(fx.BaseUrl + "orleans/");
        // its script reads the dashboard's own API under /orleans with the cookie, and shows this silo as the one active
        await Expect(page.Locator(".info-box-content:has-text('Active Silos') .info-box-number")).ToHaveTextAsync("1");
        await Expect(page.Locator("#content")).ToContainTextAsync("RolloutWorkerGrain"); // the running job's grain calls, profiled
        await page.ScreenshotAsync(new() { Path = Path.Combine(DashboardFixture.ScreenshotDir, "orleans.png") });
        Assert.Empty(offOrigin);
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    [Fact]
    public async Task ARolloutsModelWrittenTextAndAgentTurnsAreShownAsTextAndNeverRun()
    {
        var page = await OpenPage();
        await LogIn(page);
        await page.GotoAsync(fx.BaseUrl + "#/jobs/" + DashboardFixture.RunningJobId);
        await page.WaitForFunctionAsync("() => window.rftDashboard.charts.reward");
        // the page's own rendering of a rollout, given one whose every model-written field is markup (as the API would return it)
        var turns = new JsonArray(
            new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = new JsonArray(new JsonObject
            {
                ["id"] = "c1", ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = "get<i>x</i>", ["arguments"] = "{\"a\": \"<svg onload=window.rftXss=5>\"}" },
            }) },
            new JsonObject { ["role"] = "tool", ["tool_call_id"] = "c1", ["content"] = "<iframe src=\"javascript:window.rftXss=6\"></iframe>" },
            new JsonObject { ["role"] = "assistant", ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "<img src=x onerror=\"window.rftXss=7\">" }) });
        var rollout = new JsonObject
        {
            ["step"] = 1, ["row"] = 0, ["sample"] = 0, ["policy_version"] = 1, ["completion_ids"] = new JsonArray(1, 2),
            ["completion"] = "<img src=x onerror=\"window.rftXss=3\">", ["finish_reason"] = "stop", ["reward"] = 0.5, ["is_score_valid"] = true,
            ["reason"] = "<script>window.rftXss=4</script>", ["metrics"] = new JsonObject { ["<b>m</b>"] = 1 }, ["advantage"] = 0.1,
            ["agent"] = new JsonObject { ["model_calls"] = 2, ["tool_calls"] = 1, ["tool_errors"] = 0, ["messages_json"] = turns.ToJsonString() },
        };
        await page.EvaluateAsync("json => window.rftDashboard.showRollout(JSON.parse(json), 'crafted')", rollout.ToJsonString());
        var detail = page.Locator("#rollout-detail");
        await Expect(detail.Locator("pre.completion")).ToHaveTextAsync("<img src=x onerror=\"window.rftXss=3\">");
        await Expect(detail.Locator("pre.reason")).ToHaveTextAsync("<script>window.rftXss=4</script>");
        await Expect(detail.Locator("table.metrics td").First).ToHaveTextAsync("<b>m</b>");
        var shown = detail.Locator(".turn");
        await Expect(shown).ToHaveCountAsync(3);
        await Expect(shown.Nth(0).Locator("pre.tool-call")).ToHaveTextAsync("→ get<i>x</i>({\"a\": \"<svg onload=window.rftXss=5>\"})");
        await Expect(shown.Nth(1)).ToContainTextAsync("<iframe src=\"javascript:window.rftXss=6\"></iframe>");
        await Expect(shown.Nth(2).Locator("pre").First).ToHaveTextAsync("<img src=x onerror=\"window.rftXss=7\">");
        Assert.Equal(0, await detail.Locator("img, script, svg, iframe, b, i").CountAsync());
        Assert.Null(await page.EvaluateAsync<int?>("() => window.rftXss ?? null"));
        Assert.Empty(offOrigin);
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    /// <summary>The rows a chart should show: each step's fields as the API returns them.</summary>
    static Dictionary<int, JsonObject> Rows(JsonNode metrics) =>
        metrics["data"]!.AsArray().Select(m => m!.AsObject()).ToDictionary(m => (int)m["step"]!);

    sealed record PlottedData(int[] Steps, Dictionary<string, double?[]> Series);

    /// <summary>What uPlot holds: x = steps, and the y values of the series the test checks (the stacked step time as each phase's own seconds).</summary>
    static async Task<PlottedData> Plotted(IPage page)
    {
        var json = await page.EvaluateAsync<string>("""
            () => { const d = window.rftDashboard, c = d.charts;
              return JSON.stringify({ steps: c.reward.data[0], series: {
                reward_mean: c.reward.data[1], eval_reward_mean: c.reward.data[4], kl: c.kl.data[1], clip_fraction: c.clip.data[1],
                invalid: c.invalid.data[1], evaluator_errors: c.invalid.data[2], policy_lag: c.lag.data[1],
                rollout_tokens_per_second: c.tps.data[1], train_tokens_per_second: c.tps.data[2],
                rollout_seconds: d.plotted.time.raw[0], evaluation_seconds: d.plotted.time.raw[1], train_seconds: d.plotted.time.raw[2],
                sync_seconds: d.plotted.time.raw[3], stacked_total: c.time.data[1], step_seconds: c.time.data[5] } }); }
            """);
        var node = JsonNode.Parse(json)!;
        return new PlottedData(node["steps"]!.Deserialize<int[]>()!,
            node["series"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.Deserialize<double?[]>()!));
    }

    /// <summary>
    /// The chart shows exactly the API's steps, in order, from the first: at least those listed before it was read,
    /// at most those listed after; every plotted value is the API's value of that step.
    /// </summary>
    static void AssertPlotsTheApi(PlottedData plotted, Dictionary<int, JsonObject> before, Dictionary<int, JsonObject> after)
    {
        Assert.True(plotted.Steps.Length >= before.Count, $"the chart shows {plotted.Steps.Length} steps, the API had {before.Count} before it was read");
        Assert.True(plotted.Steps.Length <= after.Count, $"the chart shows {plotted.Steps.Length} steps, the API has {after.Count}");
        var expected = after.Keys.Order().Take(plotted.Steps.Length).ToArray();
        Assert.True(expected.SequenceEqual(plotted.Steps), $"the chart's steps {string.Join(",", plotted.Steps)}, the API's {string.Join(",", expected)}");
        int evals = 0;
        for (int i = 0; i < plotted.Steps.Length; i++)
        {
            var m = after[plotted.Steps[i]];
            double D(string f) => m[f]!.GetValueKind() == JsonValueKind.Number ? (double)m[f]! : double.NaN;
            void Same(string series, double expected)
            {
                var actual = plotted.Series[series][i];
                if (double.IsFinite(expected)) Assert.True(actual is double a && Math.Abs(a - expected) <= 1e-9 * Math.Max(1, Math.Abs(expected)), $"step {plotted.Steps[i]} {series}: plotted {actual}, the API says {expected}");
                else Assert.Null(actual); // NaN/∞ leave a gap
            }
            foreach (var f in new[] { "reward_mean", "kl", "clip_fraction", "policy_lag", "rollout_tokens_per_second", "train_tokens_per_second", "rollout_seconds", "evaluation_seconds", "train_seconds", "sync_seconds", "step_seconds" })
                Same(f, D(f));
            Same("invalid", 1 - D("valid_fraction"));
            Same("evaluator_errors", D("evaluator_errors") + D("evaluator_timeouts"));
            Same("stacked_total", D("rollout_seconds") + D("evaluation_seconds") + D("train_seconds") + D("sync_seconds"));
            if (m["eval_reward_mean"] is JsonValue e) { Same("eval_reward_mean", (double)e); evals++; }
            else Assert.Null(plotted.Series["eval_reward_mean"][i]);
        }
        Assert.True(evals > 0, "no plotted step has an eval reward (the job evaluates every 2 steps)");
    }

    /// <summary>Pixels a chart's canvas has drawn on: its curves and axes, not an empty box.</summary>
    static Task<int> InkedPixels(IPage page, string chart) => page.EvaluateAsync<int>($$"""
        () => { const c = document.querySelector('#chart-{{chart}} canvas');
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }
        """);

    public async Task DisposeAsync()
    {
        if (browser is not null) await browser.DisposeAsync();
        playwright?.Dispose();
        try { Directory.Delete(profile, recursive: true); } catch (IOException) { }
    }
}
