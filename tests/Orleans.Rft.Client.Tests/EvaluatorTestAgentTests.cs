using System.Text.Json.Nodes;
using Orleans.Rft.Client.Commands;
using Orleans.Rft.Engine.Presets;

namespace Orleans.Rft.Client.Tests;

/// <summary><c>rft evaluator test --completions</c> scores agent trajectories as a job would: the trajectory in the evaluator's messages, the agent's reported score for agent_reported.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class EvaluatorTestAgentTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "orleans-rft-evaltest-agent", Guid.NewGuid().ToString("N")[..8]);

    public EvaluatorTestAgentTests()
    {
        Directory.CreateDirectory(dir);
        if (File.Exists("/usr/bin/python3")) Orleans.Rft.Evaluators.Python.PythonRuntime.Executable = "/usr/bin/python3";
        TinyModelPresets.WriteTokenizer(Path.Combine(dir, "model"));
        File.WriteAllText(Path.Combine(dir, "model", "config.json"), TinyModelPresets.Presets["micro"].ToJson());
        File.WriteAllText(Path.Combine(dir, "train.jsonl"), """
            {"messages": [{"role": "user", "content": "What is 123456 * 654321?"}], "ground_truth": "80779853376"}
            """);
        File.WriteAllText(Path.Combine(dir, "trajectories.jsonl"), """
            {"line": 1, "trajectory": [{"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "multiply", "arguments": "{}"}}]}, {"role": "tool", "tool_call_id": "c1", "content": "80779853376"}, {"role": "assistant", "content": "80779853376"}], "reported_score": 0.75, "reported_reason": "used the tool"}
            {"line": 1, "trajectory": [{"role": "assistant", "content": "about 8e10"}]}
            """);
    }

    JsonObject Run(string job)
    {
        File.WriteAllText(Path.Combine(dir, "job.yaml"), job);
        var (exit, output, error) = ConsoleCapture.Run(EvaluatorTestCommand.Create(), "evaluator", "test", Path.Combine(dir, "job.yaml"),
            "--completions", Path.Combine(dir, "trajectories.jsonl"), "--json");
        Assert.True(exit == 0, error);
        return JsonNode.Parse(output)!.AsObject();
    }

    [Fact]
    public void Agent_reported_scores_the_reported_score_and_says_when_there_is_none()
    {
        var o = Run("base_model: model\ndataset: train.jsonl\nevaluator:\n  type: agent_reported\nagent:\n  type: remote\n  url: http://localhost:8080\n");
        var samples = o["samples"]!.AsArray();
        Assert.Equal(0.75, samples[0]!["result"]!["score"]!.GetValue<double>());
        Assert.Equal("used the tool", samples[0]!["result"]!["reason"]!.GetValue<string>());
        Assert.Equal("80779853376", samples[0]!["completion"]!.GetValue<string>()); // the final answer, the last assistant message
        Assert.False(samples[1]!["result"]!["is_score_valid"]!.GetValue<bool>());
        Assert.Contains("the agent reported no score", samples[1]!["result"]!["reason"]!.GetValue<string>());
    }

    [Fact]
    public void A_python_reward_sees_the_trajectory_in_messages()
    {
        File.WriteAllText(Path.Combine(dir, "reward.py"), """
            def evaluate(messages, ground_truth):
                used = any(m["role"] == "tool" for m in messages)
                right = messages[-1]["content"].strip() == ground_truth
                return {"score": 0.5 * used + 0.5 * right, "reason": f"{len(messages)} messages"}
            """);
        var o = Run("base_model: model\ndataset: train.jsonl\nevaluator:\n  type: python\n  path: reward.py\n");
        var samples = o["samples"]!.AsArray();
        Assert.Equal((1.0, "4 messages"), (samples[0]!["result"]!["score"]!.GetValue<double>(), samples[0]!["result"]!["reason"]!.GetValue<string>()));
        Assert.Equal((0.0, "2 messages"), (samples[1]!["result"]!["score"]!.GetValue<double>(), samples[1]!["result"]!["reason"]!.GetValue<string>()));
    }

    public void Dispose()
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }
}
