using System.Text.Json.Nodes;
using Orleans.Rft.Evaluators.Tests.Http;

namespace Orleans.Rft.Evaluators.Tests.Python;

/// <summary><c>multi</c> combines python, http and built-in parts; each part's score and its own metrics show as metrics of the result.</summary>
public sealed class MultiWithUserEvaluatorsTests
{
    [Fact]
    public async Task Python_http_and_built_in_parts_combine_and_their_metrics_are_kept_under_the_part_name()
    {
        var dir = Py.Write("""
            def evaluate(completion):
                return {"score": 0.5, "metrics": {"length": {"score": 0.25}}}
            """);
        using var server = new TestServer((_, _) => TestServer.Answer(200, """{"score":1.0,"reason":"grader ok"}"""));
        var spec = JsonNode.Parse($$$$"""
            {"type":"multi","formula":"0.5 * style + 0.25 * grader + 0.25 * exact",
             "evaluators":{"style":{"type":"python","path":"reward.py"},
                           "grader":{"type":"http","url":"{{{{server.Url}}}}"},
                           "exact":{"type":"exact_match"}}}
            """)!.AsObject();
        var e = EvaluatorFactory.Create(spec, "evaluator", dir);
        var r = await e.EvaluateAsync(Py.Input("4", JsonValue.Create("4")), CancellationToken.None);
        Assert.True(r.IsScoreValid, r.Reason);
        Assert.Equal(0.5 * 0.5 + 0.25 + 0.25, r.Score, 9);
        Assert.Equal(0.5, r.Metrics!["style"].Score);
        Assert.Equal(0.25, r.Metrics["style.length"].Score);
        Assert.Equal("grader ok", r.Metrics["grader"].Reason);
        (e as IDisposable)?.Dispose();
    }

    [Fact]
    public void A_groupwise_part_inside_multi_is_refused_at_submission()
    {
        var dir = Py.Write("def evaluate(completions):\n    return [1.0] * len(completions)\n");
        var spec = JsonNode.Parse("""{"type":"multi","evaluators":{"rank":{"type":"python","path":"reward.py","groupwise":true}}}""")!.AsObject();
        var error = Assert.Throws<SpecException>(() => EvaluatorFactory.Create(spec, "evaluator", dir));
        Assert.Contains("evaluator.evaluators.rank.groupwise", error.Message);
    }
}
