using System.Text.Json.Nodes;
using Orleans.Rft.Evaluators.Http;

namespace Orleans.Rft.Evaluators.Tests.Http;

/// <summary>The http evaluator against an in-test server: retries where a retry can help, never where it cannot, and every failure is an invalid sample with the reason.</summary>
public sealed class HttpEvaluatorTests
{
    static IEvaluator Create(string url, string extra = "") =>
        EvaluatorFactory.Create(JsonNode.Parse($$"""{"type":"http","url":"{{url}}"{{(extra.Length > 0 ? "," + extra : "")}}}""")!.AsObject(), "evaluator", null);

    static EvaluationInput Input(string completion) =>
        new(completion, JsonValue.Create("4"), JsonNode.Parse("""{"messages":[{"role":"user","content":"2+2?"}],"ground_truth":"4","extra":1}""")!.AsObject());

    [Fact]
    public async Task Two_500s_then_a_200_scores_after_retrying_and_the_post_has_the_documented_shape()
    {
        using var server = new TestServer((_, attempt) => attempt <= 2 ? TestServer.Answer(500, "busy") : TestServer.Answer(200, """{"score":0.8,"reason":"close","metrics":{"m":{"score":1}}}"""));
        var r = await Create(server.Url, "\"timeout_seconds\": 10").EvaluateAsync(Input("4"), CancellationToken.None);
        Assert.Equal((0.8, true, "close"), (r.Score, r.IsScoreValid, r.Reason));
        Assert.Equal(1.0, r.Metrics!["m"].Score);
        Assert.Equal(3, server.Attempts);
        var body = server.Bodies[0]!;
        Assert.Equal("4", body["completion"]!.GetValue<string>());
        Assert.Equal("4", body["ground_truth"]!.GetValue<string>());
        Assert.Equal(1, body["row"]!["extra"]!.GetValue<int>());
        Assert.Equal("assistant", body["messages"]![1]!["role"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_4xx_is_never_retried_and_says_so()
    {
        using var server = new TestServer((_, _) => TestServer.Answer(422, """{"detail":"bad field"}"""));
        var r = await Create(server.Url).EvaluateAsync(Input("4"), CancellationToken.None);
        Assert.False(r.IsScoreValid);
        Assert.Contains("HTTP 422", r.Reason);
        Assert.Contains("bad field", r.Reason);
        Assert.Equal(1, server.Attempts);
    }

    [Fact]
    public async Task A_server_that_hangs_makes_the_sample_invalid_within_the_timeout()
    {
        using var server = new TestServer(async (_, _) => { await Task.Delay(Timeout.Infinite); return (200, ""); });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var r = await Create(server.Url, "\"timeout_seconds\": 1").EvaluateAsync(Input("4"), CancellationToken.None);
        Assert.False(r.IsScoreValid);
        Assert.Contains("no answer within timeout_seconds (1 s)", r.Reason);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), clock.Elapsed.ToString());
    }

    [Theory]
    [InlineData("<html>oops</html>", "not JSON")]
    [InlineData("""{"score":"high"}""", "no numeric 'score'")]
    [InlineData("""{"score":0.5,"is_score_valid":"yes"}""", "'is_score_valid' is not true or false")]
    [InlineData("""{"score":2}""", "outside [0, 1]")]
    [InlineData("""[{"score":0.1},{"score":0.2}]""", "must answer an EvaluateResult object")]
    public async Task Garbage_answers_are_invalid_samples_with_the_reason(string answer, string reason)
    {
        using var server = new TestServer((_, _) => TestServer.Answer(200, answer));
        var r = await Create(server.Url).EvaluateAsync(Input("4"), CancellationToken.None);
        Assert.False(r.IsScoreValid);
        Assert.Contains(reason, r.Reason);
    }

    [Fact]
    public async Task A_refused_connection_is_retried_until_the_timeout_and_reported()
    {
        var r = await Create("http://127.0.0.1:1/", "\"timeout_seconds\": 1").EvaluateAsync(Input("4"), CancellationToken.None);
        Assert.False(r.IsScoreValid);
        Assert.Contains("connection failed", r.Reason);
    }

    [Fact]
    public async Task Header_secrets_come_from_the_environment_and_never_appear_in_a_reason()
    {
        Environment.SetEnvironmentVariable("RFT_TEST_GRADER_TOKEN", "s3cret-value");
        using var server = new TestServer((_, _) => TestServer.Answer(401, "unauthorized"));
        var r = await Create(server.Url, """ "headers": {"Authorization": "Bearer ${ENV:RFT_TEST_GRADER_TOKEN}"} """).EvaluateAsync(Input("4"), CancellationToken.None);
        Assert.Equal("Bearer s3cret-value", server.Authorization[0]);
        Assert.DoesNotContain("s3cret", r.Reason);
        var missing = Assert.Throws<SpecException>(() => Create(server.Url, """ "headers": {"X-Key": "${ENV:RFT_TEST_UNSET_VARIABLE}"} """));
        Assert.Contains("evaluator.headers.X-Key", missing.Message);
        Assert.Contains("RFT_TEST_UNSET_VARIABLE", missing.Message);
    }

    [Fact]
    public async Task At_most_max_concurrency_requests_are_open_at_once()
    {
        int open = 0, peak = 0;
        using var server = new TestServer(async (_, _) =>
        {
            var now = Interlocked.Increment(ref open);
            lock (this) peak = Math.Max(peak, now);
            await Task.Delay(200);
            Interlocked.Decrement(ref open);
            return (200, """{"score":1}""");
        });
        var e = Create(server.Url, "\"max_concurrency\": 2");
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => e.EvaluateAsync(Input("4"), CancellationToken.None)));
        Assert.All(results, r => Assert.True(r.IsScoreValid));
        Assert.Equal(2, peak);
    }

    [Fact]
    public async Task Groupwise_posts_the_group_once_and_takes_a_list_back()
    {
        using var server = new TestServer((body, _) => TestServer.Answer(200, new JsonArray(body!["completions"]!.AsArray().Select(c => (JsonNode?)new JsonObject { ["score"] = c!.GetValue<string>().Length / 10.0 }).ToArray()).ToJsonString()));
        var e = (IGroupEvaluator)Create(server.Url, "\"groupwise\": true");
        var results = await e.EvaluateGroupAsync([Input("a"), Input("abc")], CancellationToken.None);
        Assert.Equal([0.1, 0.3], results.Select(r => r.Score));
        Assert.Equal(1, server.Attempts);
        Assert.Equal(2, server.Bodies[0]!["messages_list"]!.AsArray().Count);
    }
}
