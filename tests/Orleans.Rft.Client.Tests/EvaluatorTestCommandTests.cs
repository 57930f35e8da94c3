using Orleans.Rft.Grains.Jobs.Spec;
using System.Text.Json.Nodes;
using Orleans.Rft.Client.Commands;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.Engine.Presets;

namespace Orleans.Rft.Client.Tests;

/// <summary>
/// rft evaluator test on completions from a file (no model): per sample score, validity, reason,
/// metrics and duration; a summary with the mean, invalid reasons, flat groups and the slowest call;
/// exit 0 even when scores are invalid.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class EvaluatorTestCommandTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "orleans-rft-evaltest", Guid.NewGuid().ToString("N")[..8]);

    public EvaluatorTestCommandTests()
    {
        Directory.CreateDirectory(dir);
        if (File.Exists("/usr/bin/python3")) Orleans.Rft.Evaluators.Python.PythonRuntime.Executable = "/usr/bin/python3";
        TinyModelPresets.WriteTokenizer(Path.Combine(dir, "model"));
        File.WriteAllText(Path.Combine(dir, "model", "config.json"), TinyModelPresets.Presets["micro"].ToJson());
        File.WriteAllText(Path.Combine(dir, "train.jsonl"), """
            {"messages": [{"role": "user", "content": "What is 1 + 2?"}], "ground_truth": "3"}
            {"messages": [{"role": "user", "content": "What is 2 + 2?"}], "ground_truth": "4"}
            """);
        File.WriteAllText(Path.Combine(dir, "reward.py"), """
            import time
            def evaluate(completion, ground_truth):
                if completion == "slow": time.sleep(1.5)  # well above a cold worker's first call on a loaded machine
                if completion == "boom": raise RuntimeError("no")
                ok = completion.strip() == ground_truth
                return {"score": float(ok), "reason": "ok" if ok else "wrong", "metrics": {"len": {"score": min(1.0, len(completion) / 10)}}}
            """);
        File.WriteAllText(Path.Combine(dir, "job.yaml"), "base_model: model\ndataset: train.jsonl\nevaluator:\n  type: python\n  path: reward.py\n");
        File.WriteAllText(Path.Combine(dir, "completions.jsonl"), """
            {"line": 1, "completions": ["3", "4", "boom"]}
            {"line": 2, "completion": "5"}
            {"line": 2, "completion": "slow"}
            """);
    }

    [Fact]
    public void Json_output_has_every_sample_and_a_summary_and_the_exit_code_is_0_with_invalid_scores()
    {
        var (exit, output, error) = ConsoleCapture.Run(EvaluatorTestCommand.Create(), "evaluator", "test", Path.Combine(dir, "job.yaml"), "--completions", Path.Combine(dir, "completions.jsonl"), "--json");
        Assert.True(exit == 0, error);
        var o = JsonNode.Parse(output)!.AsObject();
        Assert.Equal(5, o["samples"]!.AsArray().Count);
        Assert.Equal(1.0 / 4, o["reward_mean"]!.GetValue<double>(), 9);
        Assert.Equal(1, o["invalid"]!.GetValue<int>());
        Assert.Equal(1, o["invalid_reasons"]!["reward.py: RuntimeError: no"]!.GetValue<int>());
        Assert.Equal(1, o["zero_variance_groups"]!.GetValue<int>()); // line 2: 5 and slow both score 0
        Assert.Equal(2, o["slowest"]!["line"]!.GetValue<int>());
        Assert.True(o["slowest"]!["ms"]!.GetValue<double>() >= 1500);
        var first = o["samples"]![0]!;
        Assert.Equal(1.0, first["result"]!["score"]!.GetValue<double>());
        Assert.Equal(0.1, first["result"]!["metrics"]!["len"]!["score"]!.GetValue<double>(), 9);
        Assert.NotNull(first["ms"]);
    }

    [Fact]
    public void Text_output_shows_scores_reasons_metrics_and_the_summary()
    {
        var (exit, output, error) = ConsoleCapture.Run(EvaluatorTestCommand.Create(), "evaluator", "test", Path.Combine(dir, "job.yaml"), "--completions", Path.Combine(dir, "completions.jsonl"));
        Assert.True(exit == 0, error);
        Assert.Contains("── row 1", output);
        Assert.Contains("INVALID", output);
        Assert.Contains("[len=0.1]", output);
        Assert.Contains("mean reward 0.250 over 4 valid samples; 1 invalid; 1/2 groups with no reward variance; slowest call", output);
        Assert.Contains("invalid ×1: reward.py: RuntimeError: no", output);
    }

    [Fact]
    public void A_completion_for_a_line_the_dataset_lacks_is_an_input_error_naming_the_file_line()
    {
        File.WriteAllText(Path.Combine(dir, "bad.jsonl"), "{\"line\": 1, \"completion\": \"3\"}\n{\"line\": 99, \"completion\": \"3\"}\n");
        var (exit, _, error) = ConsoleCapture.Run(EvaluatorTestCommand.Create(), "evaluator", "test", Path.Combine(dir, "job.yaml"), "--completions", Path.Combine(dir, "bad.jsonl"));
        Assert.Equal(2, exit);
        Assert.Contains("bad.jsonl:2: 'line' must be a line number", error);
    }

    [Theory]
    [InlineData("arithmetic")]
    [InlineData("json-extract")]
    public void The_example_jobs_parse_with_their_python_reward(string example)
    {
        var spec = JobSpecParser.Parse(Path.Combine(Repository.Root, "examples", example, "job.yaml"));
        Assert.Equal("python", JsonNode.Parse(spec.EvaluatorJson)!["type"]!.GetValue<string>());
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);
}
