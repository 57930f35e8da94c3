using System.Text.Json.Nodes;

namespace Orleans.Rft.Evaluators.Tests.Python;

/// <summary>
/// The examples' reward.py files, run as they are by the python evaluator, give the same reward as the
/// built-in evaluator each example job used, on the same completions of every held-out row: that is
/// what allows the example jobs to switch to <c>type: python</c>.
/// </summary>
public sealed class ExampleRewardTests
{
    static readonly string Examples = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../examples"));

    static IEnumerable<(JsonObject Row, JsonNode? Truth)> Rows(string example) =>
        File.ReadLines(Path.Combine(Examples, example, "test.jsonl")).Where(l => l.Trim().Length > 0)
            .Select(l => JsonNode.Parse(l)!.AsObject()).Select(r => (r, r["ground_truth"]?.DeepClone()));

    static async Task AssertSameRewards(string example, string builtInSpec, Func<JsonNode?, IEnumerable<string>> completions)
    {
        var builtIn = EvaluatorFactory.Create(JsonNode.Parse(builtInSpec)!.AsObject(), "evaluator", null);
        using var python = (Orleans.Rft.Evaluators.Python.PythonEvaluator)EvaluatorFactory.Create(
            JsonNode.Parse("""{"type":"python","path":"reward.py","workers":2}""")!.AsObject(), "evaluator", Path.Combine(Examples, example));
        int compared = 0;
        foreach (var (row, truth) in Rows(example))
            foreach (var completion in completions(truth))
            {
                var input = new EvaluationInput(completion, truth, row);
                var a = await builtIn.EvaluateAsync(input, CancellationToken.None);
                var b = await python.EvaluateAsync(input, CancellationToken.None);
                Assert.True(b.IsScoreValid, b.Reason);
                Assert.True(a.Score == b.Score, $"{example}: '{completion}' (truth {truth?.ToJsonString()}): built-in {a.Score} ({a.Reason}), reward.py {b.Score} ({b.Reason})");
                compared++;
            }
        Assert.True(compared >= 100, $"only {compared} completions compared");
    }

    [Fact]
    public Task Arithmetic_reward_py_equals_numeric_extract_full() =>
        AssertSameRewards("arithmetic", """{"type":"numeric","extract":"full"}""", truth =>
        {
            var t = truth!.GetValue<string>();
            var n = int.Parse(t);
            return [t, $" {t}\n", $"{n + 1}", $"{n - 1}", $"{t}0", t[..^1], $"{t}.0", $"-{t}", "", "The answer", $"{t} apples", $"{t}{t}"];
        });

    [Fact]
    public Task Json_extract_reward_py_equals_the_jobs_json_schema_evaluator() =>
        AssertSameRewards("json-extract", """
            {"type":"json_schema","schema":{"type":"object","required":["name","age","city"],"additionalProperties":false,
             "properties":{"name":{"type":"string"},"age":{"type":"integer"},"city":{"type":"string"}}}}
            """, truth =>
        {
            var o = truth!.AsObject();
            string With(string key, JsonNode? value) { var c = o.DeepClone().AsObject(); c[key] = value; return c.ToJsonString(); }
            var exact = o.ToJsonString();
            var withoutCity = o.DeepClone().AsObject();
            withoutCity.Remove("city");
            return [exact, $" {exact}\n", With("age", (int)o["age"]! + 1), With("name", "Someone"), With("city", "Nowhere"),
                With("age", o["age"]!.ToJsonString()), With("extra", 1), withoutCity.ToJsonString(), exact[..^2], "not json", "[]",
                With("name", 3), With("age", null)];
        });
}
