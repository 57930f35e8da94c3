using System.Text.Json.Nodes;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>The jobs API's reads (<c>/v1/rft/jobs…</c>) against a job that really ran: shapes, names, limits and errors.</summary>
[Collection(JobsHttpCollection.Name)]
public sealed class JobsHttpReadTests(JobsHttpFixture fx)
{
    static async Task<(int Status, JsonNode Body, string Text)> Get(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonNode.Parse(text)!, text);
    }

    static void AssertError(JsonNode body, string? param, string? code = null)
    {
        var error = body["error"]!.AsObject();
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        Assert.Equal(param, error["param"]?.GetValue<string>());
        if (code is not null) Assert.Equal(code, error["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_job_reads_back_with_snake_case_keys_and_its_status_as_a_name_not_a_number()
    {
        using var http = fx.Http();
        var (status, body, text) = await Get(http, $"v1/rft/jobs/{fx.DoneJobId}");
        Assert.Equal(200, status);
        Assert.Equal("completed", body["status"]!.GetValue<string>());
        Assert.Equal(fx.DoneJobId, body["job_id"]!.GetValue<string>());
        Assert.Equal(JobsHttpFixture.DoneSteps, body["total_steps"]!.GetValue<int>());
        Assert.Equal(JobsHttpFixture.DoneSteps, body["latest"]!["step"]!.GetValue<int>());
        Assert.NotNull(body["latest"]!["reward_mean"]);
        Assert.NotNull(body["latest"]!["rollout_tokens_per_second"]);
        Assert.DoesNotContain("\"JobId\"", text);
        Assert.DoesNotContain("\"Status\"", text);
    }

    [Fact]
    public async Task The_job_list_holds_the_finished_job_in_a_data_array()
    {
        using var http = fx.Http();
        var (status, body, _) = await Get(http, "v1/rft/jobs");
        Assert.Equal(200, status);
        var job = body["data"]!.AsArray().Single(j => j!["job_id"]!.GetValue<string>() == fx.DoneJobId)!;
        Assert.Equal("completed", job["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Metrics_from_N_hold_exactly_the_steps_from_N_to_the_last()
    {
        using var http = fx.Http();
        var (status, body, _) = await Get(http, $"v1/rft/jobs/{fx.DoneJobId}/metrics?from=2");
        Assert.Equal(200, status);
        Assert.Equal(Enumerable.Range(2, JobsHttpFixture.DoneSteps - 1), body["data"]!.AsArray().Select(m => m!["step"]!.GetValue<int>()));
        var (_, all, _) = await Get(http, $"v1/rft/jobs/{fx.DoneJobId}/metrics");
        Assert.Equal(Enumerable.Range(1, JobsHttpFixture.DoneSteps), all["data"]!.AsArray().Select(m => m!["step"]!.GetValue<int>()));
        Assert.All(all["data"]!.AsArray(), m => Assert.True(m!["metric_means"] is JsonObject));
    }

    [Fact]
    public async Task Rollouts_page_in_order_and_best_worst_are_the_highest_and_lowest_rewards_of_the_step()
    {
        using var http = fx.Http();
        var (status, page, _) = await Get(http, $"v1/rft/jobs/{fx.DoneJobId}/rollouts?step=1&offset=2&limit=3");
        Assert.Equal(200, status);
        Assert.Equal(1, page["step"]!.GetValue<int>());
        Assert.Equal(2, page["offset"]!.GetValue<int>());
        int total = page["total"]!.GetValue<int>();
        Assert.True(total >= 8, $"total {total}");
        Assert.Equal(3, page["data"]!.AsArray().Count);
        Assert.All(page["data"]!.AsArray(), r => Assert.Equal(1, r!["step"]!.GetValue<int>()));

        var (_, whole, _) = await Get(http, $"v1/rft/jobs/{fx.DoneJobId}/rollouts?step=1&limit=100");
        var all = whole["data"]!.AsArray().Select(r => (Row: r!["row"]!.GetValue<int>(), Sample: r["sample"]!.GetValue<int>(), Reward: r["reward"]!.GetValue<double>())).ToList();
        Assert.Equal(total, all.Count);
        // best: highest reward first, ties by row then sample; worst: lowest likewise, less those already in best
        var best = all.OrderByDescending(r => r.Reward).ThenBy(r => r.Row).ThenBy(r => r.Sample).Take(2).ToList();
        var worst = all.OrderBy(r => r.Reward).ThenBy(r => r.Row).ThenBy(r => r.Sample).Take(2).Except(best);
        var (_, ranked, _) = await Get(http, $"v1/rft/jobs/{fx.DoneJobId}/rollouts?step=1&best=2&worst=2");
        var data = ranked["data"]!.AsArray().Select(r => (Row: r!["row"]!.GetValue<int>(), Sample: r["sample"]!.GetValue<int>(), Reward: r["reward"]!.GetValue<double>())).ToList();
        Assert.Equal(best.Concat(worst), data);
        Assert.Equal(total, ranked["scanned"]!.GetValue<int>());
    }

    [Fact]
    public async Task The_events_of_an_ended_job_are_a_snapshot_its_metrics_and_an_end_then_the_stream_closes()
    {
        using var http = fx.Http();
        using var response = await http.GetAsync($"v1/rft/jobs/{fx.DoneJobId}/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync(); // returns only because the server closes the stream
        var events = ServerSentEventsText.Parse(text);
        Assert.Equal(["snapshot", "metrics", "end"], events.Select(e => e.Name));
        Assert.Equal(Enumerable.Range(1, JobsHttpFixture.DoneSteps), events[1].Data["data"]!.AsArray().Select(m => m!["step"]!.GetValue<int>()));
        Assert.Equal("completed", events[2].Data["status"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("v1/rft/jobs/no-such-job")]
    [InlineData("v1/rft/jobs/no-such-job/metrics")]
    [InlineData("v1/rft/jobs/no-such-job/rollouts")]
    [InlineData("v1/rft/jobs/no-such-job/events")]
    [InlineData("v1/rft/jobs/bad%20id!")]
    public async Task An_unknown_job_is_a_404_in_the_error_shape_naming_the_id(string path)
    {
        using var http = fx.Http();
        var (status, body, _) = await Get(http, path);
        Assert.Equal(404, status);
        AssertError(body, "id", "job_not_found");
    }

    [Theory]
    [InlineData("metrics?from=x", "from")]
    [InlineData("metrics?from=-1", "from")]
    [InlineData("rollouts?limit=0", "limit")]
    [InlineData("rollouts?limit=101", "limit")]
    [InlineData("rollouts?step=1&step=2", "step")]
    [InlineData("rollouts?best=2&offset=1", "best")]
    [InlineData("events?from=z", "from")]
    public async Task A_bad_query_parameter_is_a_400_naming_it(string query, string param)
    {
        using var http = fx.Http();
        var (status, body, _) = await Get(http, $"v1/rft/jobs/{fx.DoneJobId}/{query}");
        Assert.Equal(400, status);
        AssertError(body, param);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("sk-wrong")]
    public async Task Every_jobs_read_without_an_accepted_key_is_a_401(string? key)
    {
        using var http = fx.Http(key);
        foreach (var path in new[] { "v1/rft/jobs", $"v1/rft/jobs/{fx.DoneJobId}", $"v1/rft/jobs/{fx.DoneJobId}/metrics",
                     $"v1/rft/jobs/{fx.DoneJobId}/rollouts", $"v1/rft/jobs/{fx.DoneJobId}/events" })
        {
            var (status, body, _) = await Get(http, path);
            Assert.Equal(401, status);
            AssertError(body, null, "invalid_api_key");
        }
    }
}

/// <summary>Named server-sent events (<c>event:</c> + <c>data:</c> blocks; comment lines skipped).</summary>
public static class ServerSentEventsText
{
    public static List<(string Name, JsonNode Data)> Parse(string text)
    {
        var events = new List<(string, JsonNode)>();
        foreach (var block in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = block.Split('\n').Where(l => !l.StartsWith(':')).ToList();
            if (lines.Count == 0) continue;
            Assert.StartsWith("event: ", lines[0]);
            Assert.StartsWith("data: ", lines[1]);
            Assert.Equal(2, lines.Count);
            events.Add((lines[0]["event: ".Length..], JsonNode.Parse(lines[1]["data: ".Length..])!));
        }
        return events;
    }
}
