using System.Text.Json.Nodes;
using Orleans.Rft.Evaluators.Tests.Http;

namespace Orleans.Rft.Evaluators.Tests.Judge;

/// <summary>The judge evaluator against an in-test fake OpenAI server: the prompt it sends, the scaling of what it reads back, and an unreadable answer made an invalid sample with the judge's text.</summary>
public sealed class JudgeEvaluatorTests
{
    /// <summary>A fake /v1/chat/completions that answers <paramref name="reply"/> of the prompt it got.</summary>
    static TestServer FakeOpenAI(Func<string, string> reply) => new((body, _) =>
    {
        var prompt = body!["messages"]![0]!["content"]!.GetValue<string>();
        var answer = new JsonObject
        {
            ["id"] = "chatcmpl-test", ["object"] = "chat.completion", ["model"] = body["model"]!.GetValue<string>(),
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["finish_reason"] = "stop", ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = reply(prompt) } }),
        };
        return TestServer.Answer(200, answer.ToJsonString());
    });

    static IGroupEvaluator Create(string baseUrl, string extra = "") =>
        (IGroupEvaluator)EvaluatorFactory.Create(JsonNode.Parse($$"""{"type":"judge","model":"grader-1","base_url":"{{baseUrl}}v1"{{(extra.Length > 0 ? "," + extra : "")}}}""")!.AsObject(), "evaluator", null);

    static EvaluationInput Input(string completion) => new(completion, JsonValue.Create("Paris"),
        JsonNode.Parse("""{"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"Capital of France?"}],"ground_truth":"Paris","topic":"geography"}""")!.AsObject());

    [Fact]
    public async Task The_prompt_is_filled_from_the_row_and_a_number_is_scaled_from_score_range()
    {
        using var server = FakeOpenAI(_ => "7");
        var e = Create(server.Url, """ "prompt": "Q: {question}\nRef: {ground_truth}\nA: {completion}\nTopic: {topic}\nScore {min}-{max}; JSON like {{\"score\": n}} is fine", "score_range": [0, 10], "temperature": 0 """);
        var r = await e.EvaluateAsync(Input("Paris."), CancellationToken.None);
        Assert.True(r.IsScoreValid, r.Reason);
        Assert.Equal(0.7, r.Score, 9);
        var sent = server.Bodies[0]!;
        Assert.Equal("grader-1", sent["model"]!.GetValue<string>());
        Assert.Equal(0.0, sent["temperature"]!.GetValue<double>());
        Assert.Equal("Q: Capital of France?\nRef: Paris\nA: Paris.\nTopic: geography\nScore 0-10; JSON like {\"score\": n} is fine", sent["messages"]![0]!["content"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("Reasoning: it names 2 cities. Score: 8/10", 0.8)]
    [InlineData(" 10 ", 1.0)]
    [InlineData("0", 0.0)]
    public async Task A_number_answer_is_read_after_the_last_score_label_or_as_the_whole_text(string answer, double expected)
    {
        using var server = FakeOpenAI(_ => answer);
        var r = await Create(server.Url).EvaluateAsync(Input("Paris"), CancellationToken.None);
        Assert.Equal(expected, r.Score, 9);
    }

    [Fact]
    public async Task A_json_answer_gives_score_and_reason_even_inside_a_fence()
    {
        using var server = FakeOpenAI(_ => "```json\n{\"score\": 4, \"reason\": \"partly right\"}\n```");
        var r = await Create(server.Url, """ "parse": "json", "score_range": [1, 5] """).EvaluateAsync(Input("Lyon"), CancellationToken.None);
        Assert.Equal(0.75, r.Score, 9);
        Assert.Contains("partly right", r.Reason);
    }

    [Theory]
    [InlineData("number", "I cannot grade this.", "has no number: I cannot grade this.")]
    [InlineData("json", "score is high", "has no JSON score: score is high")]
    [InlineData("number", "15", "outside score_range [0, 10]: 15")]
    public async Task An_unreadable_or_out_of_range_answer_is_invalid_with_the_judges_text(string parse, string answer, string reason)
    {
        using var server = FakeOpenAI(_ => answer);
        var r = await Create(server.Url, $$""" "parse": "{{parse}}" """).EvaluateAsync(Input("Paris"), CancellationToken.None);
        Assert.False(r.IsScoreValid);
        Assert.Contains(reason, r.Reason);
    }

    [Fact]
    public async Task Groupwise_ranks_all_completions_in_one_call()
    {
        using var server = FakeOpenAI(prompt => prompt.Contains("Response 3:\nLyon") ? "{\"scores\": [10, 5, 0]}" : "no");
        var e = Create(server.Url, """ "groupwise": true """);
        var results = await e.EvaluateGroupAsync([Input("Paris"), Input("Paris?"), Input("Lyon")], CancellationToken.None);
        Assert.Equal([1.0, 0.5, 0.0], results.Select(r => r.Score));
        Assert.Equal(1, server.Attempts);
        var wrongCount = FakeOpenAI(_ => "[1, 2]");
        using (wrongCount)
        {
            var bad = await Create(wrongCount.Url, """ "groupwise": true """).EvaluateGroupAsync([Input("a"), Input("b"), Input("c")], CancellationToken.None);
            Assert.All(bad, r => Assert.Contains("not a JSON list of 3 scores: [1, 2]", r.Reason));
        }
    }

    [Fact]
    public async Task The_api_key_comes_from_the_named_environment_variable()
    {
        Environment.SetEnvironmentVariable("RFT_TEST_JUDGE_KEY", "sk-test-123");
        using var server = FakeOpenAI(_ => "5");
        await Create(server.Url, """ "api_key_env": "RFT_TEST_JUDGE_KEY" """).EvaluateAsync(Input("Paris"), CancellationToken.None);
        Assert.Equal("Bearer sk-test-123", server.Authorization[0]);
    }

    [Theory]
    [InlineData("""{"type":"judge","model":"m","base_url":"http://x/v1","prompt":"{completion"}""", "evaluator.prompt: has '{' at character 0")]
    [InlineData("""{"type":"judge","model":"m","base_url":"http://x/v1","groupwise":true,"prompt":"{completion}"}""", "must show the responses with {completions}")]
    [InlineData("""{"type":"judge","model":"m","base_url":"http://x/v1","score_range":[5,5]}""", "evaluator.score_range: [5, 5] is empty")]
    [InlineData("""{"type":"judge","model":"m","base_url":"http://x/v1","parse":"yaml"}""", "evaluator.parse: 'yaml' must be 'number' or 'json'")]
    [InlineData("""{"type":"judge","model":"m","base_url":"http://x/v1","api_key_env":"RFT_TEST_SURELY_UNSET"}""", "RFT_TEST_SURELY_UNSET, which is not set")]
    public void A_bad_judge_spec_is_refused_at_submission(string spec, string message)
    {
        var e = Assert.Throws<SpecException>(() => EvaluatorFactory.Create(JsonNode.Parse(spec)!.AsObject(), "evaluator", null));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public async Task Without_base_url_the_judge_calls_the_cluster_endpoint_with_its_key()
    {
        using var server = FakeOpenAI(_ => "8");
        var judge = EvaluatorFactory.Create(JsonNode.Parse("""{"type":"judge","model":"jobs/job-1"}""")!.AsObject(), "evaluator", null,
            ClusterEndpoint.Serving(new Uri(server.Url + "v1"), "rft-internal-abc"));
        var r = await judge.EvaluateAsync(Input("Paris"), CancellationToken.None);
        Assert.Equal(0.8, r.Score, 9);
        Assert.Equal("Bearer rft-internal-abc", server.Authorization[0]);
        Assert.Equal("jobs/job-1", server.Bodies[0]!["model"]!.GetValue<string>());
    }

    [Fact]
    public void Without_base_url_on_a_silo_without_HTTP_the_spec_is_refused_naming_base_url_and_Rft_HttpPort()
    {
        var e = Assert.Throws<SpecException>(() => EvaluatorFactory.Create(JsonNode.Parse("""{"type":"judge","model":"m"}""")!.AsObject(), "evaluator", null,
            ClusterEndpoint.None("this silo serves no HTTP endpoint (Rft:HttpPort is 0)")));
        Assert.StartsWith("evaluator.base_url: is omitted", e.Message);
        Assert.Contains("Rft:HttpPort is 0", e.Message);
    }

    [Fact]
    public void Without_base_url_inside_multi_the_spec_is_refused_the_same_way()
    {
        var e = Assert.Throws<SpecException>(() => EvaluatorFactory.Create(JsonNode.Parse("""{"type":"multi","evaluators":{"j":{"type":"judge","model":"m"},"e":{"type":"exact_match"}}}""")!.AsObject(), "evaluator", null,
            ClusterEndpoint.None("no endpoint here")));
        Assert.StartsWith("evaluator.evaluators.j.base_url: is omitted", e.Message);
    }

    [Fact]
    public async Task Checked_before_a_silo_builds_it_a_judge_without_base_url_is_accepted_and_never_scores()
    {
        // rft submit checks the spec with no endpoint known; only the silo's build can call anything.
        var judge = EvaluatorFactory.Create(JsonNode.Parse("""{"type":"judge","model":"m"}""")!.AsObject(), "evaluator", null);
        var r = await judge.EvaluateAsync(Input("Paris"), CancellationToken.None);
        Assert.False(r.IsScoreValid);
        Assert.Contains("no base_url", r.Reason);
    }

    [Fact]
    public void Api_key_env_without_base_url_is_refused_since_the_cluster_endpoint_takes_the_silos_key()
    {
        var e = Assert.Throws<SpecException>(() => EvaluatorFactory.Create(JsonNode.Parse("""{"type":"judge","model":"m","api_key_env":"X"}""")!.AsObject(), "evaluator", null));
        Assert.StartsWith("evaluator.api_key_env:", e.Message);
    }

    [Fact]
    public void Job_id_in_a_judges_model_becomes_the_jobs_id_also_inside_multi_and_nothing_else_changes()
    {
        var spec = """{"type":"multi","evaluators":{"j":{"type":"judge","model":"jobs/{job_id}","prompt":"{job_id} {completion}"},"r":{"type":"regex","pattern":"{job_id}"}}}""";
        var resolved = JsonNode.Parse(EvaluatorFactory.WithJobId(spec, "math-20261126"))!;
        Assert.Equal("jobs/math-20261126", resolved["evaluators"]!["j"]!["model"]!.GetValue<string>());
        Assert.Equal("{job_id} {completion}", resolved["evaluators"]!["j"]!["prompt"]!.GetValue<string>());
        Assert.Equal("{job_id}", resolved["evaluators"]!["r"]!["pattern"]!.GetValue<string>());
        Assert.Equal("""{"type":"exact_match"}""", EvaluatorFactory.WithJobId("""{"type":"exact_match"}""", "x"));
    }

    [Fact]
    public async Task A_row_without_a_field_the_prompt_names_is_an_invalid_sample()
    {
        using var server = FakeOpenAI(_ => "5");
        var r = await Create(server.Url, """ "prompt": "{completion} {difficulty}" """).EvaluateAsync(Input("Paris"), CancellationToken.None);
        Assert.False(r.IsScoreValid);
        Assert.Contains("{difficulty}", r.Reason);
    }
}
