using Orleans.Rft.Client.Commands;
using Orleans.Rft.Engine.Presets;

namespace Orleans.Rft.Client.Tests;

/// <summary>
/// A python reward file that does not load stops rft run, rft submit and rft evaluator test with exit
/// code 2 before anything starts (no cluster, no model), naming the job file's line, the field, the
/// reward file and its line.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class RewardLoadErrorTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "orleans-rft-reward-tests", Guid.NewGuid().ToString("N")[..8]);

    public RewardLoadErrorTests()
    {
        Directory.CreateDirectory(dir);
        if (File.Exists("/usr/bin/python3")) Orleans.Rft.Evaluators.Python.PythonRuntime.Executable = "/usr/bin/python3";
        TinyModelPresets.WriteTokenizer(Path.Combine(dir, "model"));
        File.WriteAllText(Path.Combine(dir, "model", "config.json"), TinyModelPresets.Presets["micro"].ToJson());
        File.WriteAllText(Path.Combine(dir, "train.jsonl"), """{"messages": [{"role": "user", "content": "What is 1 + 2?"}], "ground_truth": "3"}""" + "\n");
        File.WriteAllText(Path.Combine(dir, "reward.py"), "def evaluate(completion):\n    x = [1,\n    return 1.0\n");
        File.WriteAllText(Path.Combine(dir, "job.yaml"), "base_model: model\ndataset: train.jsonl\nevaluator:\n  type: python\n  path: reward.py\n");
    }

    public static TheoryData<string> Commands => new() { "run", "submit", "evaluator test" };

    [Theory]
    [MemberData(nameof(Commands))]
    public void A_syntax_error_in_the_reward_exits_2_naming_the_job_line_and_the_reward_line(string command)
    {
        var job = Path.Combine(dir, "job.yaml");
        var (exit, _, error) = command switch
        {
            "run" => ConsoleCapture.Run(RunCommand.Create(), "run", job),
            "submit" => ConsoleCapture.Run(JobCommands.Create().Single(c => c.Name == "submit"), "submit", job),
            _ => ConsoleCapture.Run(EvaluatorTestCommand.Create(), "evaluator", "test", job),
        };
        Assert.True(exit == 2, error);
        Assert.Contains("job.yaml:5: evaluator.path: reward.py:2: SyntaxError", error);
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);
}
