using System.Text.Json.Nodes;

namespace Orleans.Rft.Evaluators.Tests.Python;

/// <summary>What a reward may return and which arguments it gets, through real worker processes.</summary>
public sealed class PythonEvaluatorShapeTests
{
    [Theory]
    [InlineData("return 0.25", 0.25)]
    [InlineData("return 1", 1.0)]
    [InlineData("return True", 1.0)]
    [InlineData("return False", 0.0)]
    [InlineData("return {'score': 0.5, 'reason': 'half'}", 0.5)]
    public async Task A_number_a_bool_or_a_dict_is_the_score(string body, double expected)
    {
        using var e = Py.Create($"def evaluate(completion):\n    {body}\n");
        var r = await e.Score("x");
        Assert.True(r.IsScoreValid, r.Reason);
        Assert.Equal(expected, r.Score);
    }

    [Fact]
    public async Task A_dict_with_metrics_keeps_every_metric_with_its_validity()
    {
        using var e = Py.Create("""
            def evaluate(completion):
                return {"score": 0.75, "is_score_valid": True, "reason": "r",
                        "metrics": {"format": {"score": 1.0, "is_score_valid": True, "reason": "ok"},
                                    "math": {"score": 0.5, "reason": "half"},
                                    "broken": {"score": float("nan")}}}
            """);
        var r = await e.Score("x");
        Assert.Equal(0.75, r.Score);
        Assert.Equal("r", r.Reason);
        Assert.Equal(1.0, r.Metrics!["format"].Score);
        Assert.Equal(0.5, r.Metrics["math"].Score);
        Assert.Equal("half", r.Metrics["math"].Reason);
        Assert.False(r.Metrics["broken"].IsScoreValid);
    }

    [Fact]
    public async Task Reward_kit_style_code_runs_with_the_rft_reward_import()
    {
        using var e = Py.Create("""
            from rft_reward import EvaluateResult, MetricResult, reward_function

            @reward_function
            def evaluate(messages, ground_truth=None, **kwargs) -> EvaluateResult:
                answer = messages[-1]["content"]
                ok = answer.strip() == str(ground_truth)
                return EvaluateResult(score=float(ok), reason="exact" if ok else "differs",
                                      metrics={"exact": MetricResult(score=float(ok), reason="m")})
            """);
        var good = await e.Score(" 4 ", JsonValue.Create("4"));
        var bad = await e.Score("5", JsonValue.Create("4"));
        Assert.Equal((1.0, "exact"), (good.Score, good.Reason));
        Assert.Equal(1.0, good.Metrics!["exact"].Score);
        Assert.Equal((0.0, "differs"), (bad.Score, bad.Reason));
    }

    [Fact]
    public async Task An_object_with_score_attributes_is_read_like_a_pydantic_model_or_a_plain_class()
    {
        using var e = Py.Create("""
            class Plain:
                def __init__(self): self.score, self.reason = 0.3, "plain"

            class PydanticLike:
                score = 0.9
                def model_dump(self): return {"score": 0.6, "reason": "dumped", "is_score_valid": True}

            def evaluate(completion):
                return Plain() if completion == "plain" else PydanticLike()
            """);
        Assert.Equal((0.3, "plain"), ((await e.Score("plain")).Score, (await e.Score("plain")).Reason));
        var dumped = await e.Score("model");
        Assert.Equal((0.6, "dumped"), (dumped.Score, dumped.Reason));
    }

    [Fact]
    public async Task The_function_gets_exactly_the_arguments_it_declares_with_the_assistant_turn_appended()
    {
        using var e = Py.Create("""
            def evaluate(messages, completion, ground_truth, tools, row, metadata):
                assert messages[-1] == {"role": "assistant", "content": completion}, messages
                assert messages[0]["content"] == "q"
                assert ground_truth == {"a": 1}
                assert tools == [{"type": "function"}]
                assert row["extra"] == "kept"
                assert metadata == {"source": "m"}
                return 1.0
            """);
        var row = JsonNode.Parse("""{"messages":[{"role":"user","content":"q"}],"tools":[{"type":"function"}],"extra":"kept","input_metadata":{"source":"m"},"ground_truth":{"a":1}}""")!.AsObject();
        var r = await e.EvaluateAsync(new EvaluationInput("answer", JsonNode.Parse("""{"a":1}"""), row), CancellationToken.None);
        Assert.True(r.IsScoreValid, r.Reason);
    }

    [Fact]
    public async Task Kwargs_receives_every_argument()
    {
        using var e = Py.Create("""
            def evaluate(**kwargs):
                return 1.0 if sorted(kwargs) == ["completion", "ground_truth", "messages", "metadata", "row", "tools"] else 0.0
            """);
        var r = await e.Score("x");
        Assert.Equal(1.0, r.Score);
    }

    [Fact]
    public async Task Print_inside_the_reward_goes_to_the_log_and_never_into_the_answer()
    {
        var marker = Guid.NewGuid().ToString("N");
        using var e = Py.Create($$$"""
            import os, sys
            def evaluate(completion):
                print('{"id": 1, "result": {"score": 0.0}}')
                print("{{{marker}}}")
                os.write(1, b"raw fd 1 write\n")
                return 0.5
            """);
        var r = await e.Score("x");
        Assert.Equal(0.5, r.Score);
        await Task.Delay(200); // stderr is read asynchronously
        lock (Py.Log) Assert.Contains(Py.Log, l => l.Contains(marker));
    }

    [Fact]
    public async Task Groupwise_rewards_see_all_completions_of_a_prompt_and_return_one_result_each()
    {
        using var e = Py.Create("""
            def evaluate(completions, messages_list, ground_truth):
                assert len(messages_list) == len(completions) and messages_list[1][-1]["content"] == completions[1]
                order = sorted(range(len(completions)), key=lambda i: len(completions[i]))
                return [order.index(i) / (len(completions) - 1) for i in range(len(completions))]
            """, "\"groupwise\": true");
        var group = new[] { "ccc", "a", "bb" }.Select(c => Py.Input(c)).ToList();
        var results = await e.EvaluateGroupAsync(group, CancellationToken.None);
        Assert.Equal([1.0, 0.0, 0.5], results.Select(r => r.Score));
    }

    [Fact]
    public async Task Workers_score_in_parallel_and_stay_warm_across_calls()
    {
        using var e = Py.Create("import time\ndef evaluate(completion):\n    time.sleep(0.5)\n    return 1.0\n", "\"workers\": 4");
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => e.Score("x"))); // starts the four workers
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => e.Score("x")));
        Assert.All(results, r => Assert.Equal(1.0, r.Score));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.9), $"8 calls of 0.5 s on 4 workers took {clock.Elapsed}");
        Assert.Equal(4, e.Counters.Started);
    }
}
