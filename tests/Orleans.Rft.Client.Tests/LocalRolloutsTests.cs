using System.Text.Json.Nodes;
using Orleans.Rft.Client.Commands;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs;

namespace Orleans.Rft.Client.Tests;

/// <summary><c>rft rollouts ID --artifacts DIR</c> reads the rollout logs an embedded run wrote, with no cluster: the latest step by default, an agent's turns included.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class LocalRolloutsTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "orleans-rft-localrollouts", Guid.NewGuid().ToString("N")[..8]);

    static Rollout Make(int step, double reward, AgentReport? agent = null) => new(step, 1, 0, step, [1, 2], [3, 4], [-0.5f, -0.25f], $"answer {step}", "stop",
        reward, true, "ok", new Dictionary<string, double>(), 0.5, [true, false], agent);

    public LocalRolloutsTests()
    {
        var folder = Path.Combine(dir, "jobs", "job-1", "rollouts");
        Directory.CreateDirectory(folder);
        var messages = new JsonArray(
            new JsonObject { ["role"] = "assistant", ["content"] = "", ["tool_calls"] = new JsonArray(new JsonObject { ["id"] = "c1", ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = "calculate", ["arguments"] = "{\"expression\":\"2+2\"}" } }) },
            new JsonObject { ["role"] = "tool", ["tool_call_id"] = "c1", ["content"] = "4" },
            new JsonObject { ["role"] = "assistant", ["content"] = "4" }).ToJsonString();
        File.WriteAllBytes(Path.Combine(folder, "step-000000.jsonl"), JobStepRunner.RolloutLog([Make(0, 0.25)]));
        File.WriteAllBytes(Path.Combine(folder, "step-000001.jsonl"), JobStepRunner.RolloutLog([Make(1, 1.0, new AgentReport(2, 1, 0, messages))]));
    }

    [Fact]
    public void The_latest_step_is_shown_by_default_with_the_agents_tool_calls_and_results()
    {
        var (exit, output, error) = ConsoleCapture.Run(RolloutsCommand.Create(), "rollouts", "job-1", "--artifacts", dir);
        Assert.True(exit == 0, error);
        Assert.Contains("step 1 row 1", output);
        Assert.Contains("calculate", output);
        Assert.Contains("answer 1", output);
        Assert.DoesNotContain("answer 0", output);
    }

    [Fact]
    public void A_given_step_is_read_and_a_missing_job_names_the_folder_and_the_jobs_there()
    {
        var (exit, output, _) = ConsoleCapture.Run(RolloutsCommand.Create(), "rollouts", "job-1", "--artifacts", dir, "--step", "0");
        Assert.Equal(0, exit);
        Assert.Contains("answer 0", output);
        var (missing, _, error) = ConsoleCapture.Run(RolloutsCommand.Create(), "rollouts", "job-2", "--artifacts", dir);
        Assert.Equal(1, missing);
        Assert.Contains("job-1", error);
    }

    public void Dispose() { try { Directory.Delete(dir, true); } catch (IOException) { } }
}
