using System.Text.Json.Nodes;
using Orleans.Rft.Evaluators.Tests.Http;
using Orleans.Rft.Evaluators.Tests.Python;

namespace Orleans.Rft.Evaluators.Tests;

/// <summary>
/// Agent rollouts reach every evaluator with their trajectory (tool calls and tool results after the
/// prompt), and <c>agent_reported</c> takes the agent's own score.
/// </summary>
public sealed class TrajectoryEvaluationTests
{
    const string Row = """{"messages":[{"role":"user","content":"What is 123456 * 654321?"}],"ground_truth":"80779853376"}""";

    static JsonArray Trajectory() => JsonNode.Parse("""
        [
          {"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"multiply","arguments":"{\"a\":123456,\"b\":654321}"}}]},
          {"role":"tool","tool_call_id":"call_1","content":"80779853376"},
          {"role":"assistant","content":"The product is 80779853376."}
        ]
        """)!.AsArray();

    static EvaluationInput Agent(double? reported = null, string? reason = null, string completion = "The product is 80779853376.") =>
        new(completion, JsonValue.Create("80779853376"), JsonNode.Parse(Row)!.AsObject(), Trajectory(), reported, reason);

    static EvaluationInput Single(string completion) => new(completion, JsonValue.Create("80779853376"), JsonNode.Parse(Row)!.AsObject());

    [Fact]
    public void The_conversation_is_the_prompt_followed_by_the_trajectory_or_by_one_assistant_message()
    {
        var agent = RolloutConversation.Messages(Agent());
        Assert.Equal(["user", "assistant", "tool", "assistant"], agent.Select(m => m!["role"]!.GetValue<string>()));
        Assert.Equal("multiply", agent[1]!["tool_calls"]![0]!["function"]!["name"]!.GetValue<string>());
        var single = RolloutConversation.Messages(Single("42"));
        Assert.Equal(["user", "assistant"], single.Select(m => m!["role"]!.GetValue<string>()));
        Assert.Equal("42", single[1]!["content"]!.GetValue<string>());

        var transcript = RolloutConversation.Response(Agent());
        Assert.Equal("[tool call: multiply] {\"a\":123456,\"b\":654321}\n\n[tool result: multiply]\n80779853376\n\n[assistant]\nThe product is 80779853376.", transcript);
        Assert.Equal("42", RolloutConversation.Response(Single("42")));
    }

    [Fact]
    public async Task A_python_reward_gets_the_trajectory_in_messages_pointwise()
    {
        using var e = Py.Create("""
            def evaluate(messages, completion):
                roles = [m["role"] for m in messages]
                used = any(m.get("tool_calls") for m in messages)
                return {"score": 1.0 if used and roles == ["user", "assistant", "tool", "assistant"] else 0.0, "reason": ",".join(roles)}
            """);
        var agent = await e.EvaluateAsync(Agent(), CancellationToken.None);
        Assert.Equal((1.0, "user,assistant,tool,assistant"), (agent.Score, agent.Reason));
        var single = await e.EvaluateAsync(Single("80779853376"), CancellationToken.None);
        Assert.Equal((0.0, "user,assistant"), (single.Score, single.Reason));
    }

    [Fact]
    public async Task A_groupwise_python_reward_gets_each_rollouts_own_trajectory()
    {
        using var e = Py.Create("""
            def evaluate(messages_list, completions):
                return [len(m) / 10 for m in messages_list]
            """, "\"groupwise\": true");
        var results = await e.EvaluateGroupAsync([Agent(), Single("guess")], CancellationToken.None);
        Assert.Equal([0.4, 0.2], results.Select(r => r.Score));
    }

    [Fact]
    public async Task The_http_evaluator_posts_the_trajectory_as_messages()
    {
        using var server = new TestServer((_, _) => TestServer.Answer(200, """{"score":1}"""));
        var e = EvaluatorFactory.Create(JsonNode.Parse($$"""{"type":"http","url":"{{server.Url}}"}""")!.AsObject(), "evaluator", null);
        var r = await e.EvaluateAsync(Agent(), CancellationToken.None);
        Assert.True(r.IsScoreValid, r.Reason);
        var messages = server.Bodies[0]!["messages"]!.AsArray();
        Assert.Equal(["user", "assistant", "tool", "assistant"], messages.Select(m => m!["role"]!.GetValue<string>()));
        Assert.Equal("80779853376", messages[2]!["content"]!.GetValue<string>());
        Assert.Equal("The product is 80779853376.", server.Bodies[0]!["completion"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_judge_reads_the_agents_whole_transcript_as_the_response()
    {
        using var server = new TestServer((body, _) => TestServer.Answer(200, new JsonObject
        {
            ["choices"] = new JsonArray(new JsonObject { ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = "9" } }),
        }.ToJsonString()));
        var e = EvaluatorFactory.Create(JsonNode.Parse($$"""{"type":"judge","model":"g","base_url":"{{server.Url}}v1","prompt":"Q: {question}\nA: {completion}"}""")!.AsObject(), "evaluator", null);
        var r = await e.EvaluateAsync(Agent(), CancellationToken.None);
        Assert.Equal(0.9, r.Score, 9);
        var prompt = server.Bodies[0]!["messages"]![0]!["content"]!.GetValue<string>();
        Assert.Contains("[tool call: multiply]", prompt);
        Assert.Contains("[tool result: multiply]\n80779853376", prompt);
        Assert.EndsWith("[assistant]\nThe product is 80779853376.", prompt);
    }

    [Fact]
    public async Task Agent_reported_takes_the_agents_score_and_reason()
    {
        var e = EvaluatorFactory.Create(JsonNode.Parse("""{"type":"agent_reported"}""")!.AsObject(), "evaluator", null);
        var r = await e.EvaluateAsync(Agent(0.75, "3 of 4 checks"), CancellationToken.None);
        Assert.Equal((0.75, true, "3 of 4 checks"), (r.Score, r.IsScoreValid, r.Reason));
        var bare = await e.EvaluateAsync(Agent(0.0), CancellationToken.None);
        Assert.Equal((0.0, true, "score reported by the agent"), (bare.Score, bare.IsScoreValid, bare.Reason));
    }

    [Theory]
    [InlineData(null, "the agent reported no score")]
    [InlineData(1.5, "reported score 1.5, outside [0, 1]")]
    [InlineData(-0.1, "reported score -0.1, outside [0, 1]")]
    [InlineData(double.NaN, "reported score NaN, outside [0, 1]")]
    public async Task Agent_reported_is_invalid_with_the_reason_when_the_agent_reported_none_or_out_of_range(double? reported, string reason)
    {
        var e = EvaluatorFactory.Create(JsonNode.Parse("""{"type":"agent_reported"}""")!.AsObject(), "evaluator", null);
        var r = await e.EvaluateAsync(Agent(reported), CancellationToken.None);
        Assert.False(r.IsScoreValid);
        Assert.Contains(reason, r.Reason);
        var single = await e.EvaluateAsync(Single("x"), CancellationToken.None);
        Assert.False(single.IsScoreValid);
        Assert.Contains("this rollout has no agent", single.Reason);
    }

    [Fact]
    public void Agent_reported_takes_no_options_and_names_a_stray_one()
    {
        var error = Assert.Throws<SpecException>(() => EvaluatorFactory.Create(JsonNode.Parse("""{"type":"agent_reported","min":0}""")!.AsObject(), "evaluator", null));
        Assert.Contains("evaluator.min", error.Message);
        Assert.Contains("agent_reported", EvaluatorFactory.Types);
    }
}
