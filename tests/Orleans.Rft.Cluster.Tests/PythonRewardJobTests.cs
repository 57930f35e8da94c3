using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// Jobs scored by real Python workers inside the silo: a reward that raises or kills its interpreter on
/// some rollouts leaves those rollouts invalid with the reason and the job completes; a groupwise reward
/// gets each prompt's rollouts whole.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class PythonRewardJobTests(ClusterFixture fixture)
{
    static PythonRewardJobTests()
    {
        if (File.Exists("/usr/bin/python3")) Orleans.Rft.Evaluators.Python.PythonRuntime.Executable = "/usr/bin/python3";
    }

    string Reward(string name, string source)
    {
        File.WriteAllText(Path.Combine(fixture.Root, name), source);
        return name;
    }

    [Fact]
    public async Task A_reward_that_raises_or_crashes_on_some_rollouts_makes_only_those_invalid_and_the_job_completes()
    {
        var file = Reward("flaky_reward.py", """
            import os, zlib
            def evaluate(completion, metadata=None):
                k = zlib.crc32(completion.encode()) % 4
                if k == 0: raise ValueError("boom")
                if k == 1: os._exit(1)
                return {"score": 1.0 if k == 2 else 0.0, "metrics": {"k": k / 4}}
            """);
        var spec = fixture.Spec("python-flaky", trainers: 1, maxSteps: 2, evaluator: $$"""{"type":"python","path":"{{file}}","workers":2,"timeout_seconds":10}""");
        var snapshot = await fixture.RunToEnd("python-flaky", spec);
        Assert.True(snapshot.Status == JobStatus.Completed, snapshot.LastError);
        var rollouts = await Client.Jobs.RolloutReader.ReadAllAsync(fixture.Cluster.Client.GetGrain<IJobGrain>("python-flaky"), 0);
        Assert.Contains(rollouts, r => !r.IsScoreValid && r.Reason == "flaky_reward.py: ValueError: boom");
        Assert.Contains(rollouts, r => !r.IsScoreValid && r.Reason.Contains("exited with code 1"));
        Assert.Contains(rollouts, r => r.IsScoreValid && r.Metrics.ContainsKey("k"));
        Assert.All(rollouts.Where(r => !r.IsScoreValid), r => Assert.Equal(0.0, r.Advantage));
    }

    [Fact]
    public async Task A_groupwise_reward_sees_each_prompts_rollouts_together()
    {
        var file = Reward("rank_reward.py", """
            def evaluate(completions, ground_truth):
                n = len(completions)
                return [i / (n - 1) for i in range(n)] if n > 1 else [0.5]
            """);
        var spec = fixture.Spec("python-groupwise", trainers: 1, maxSteps: 1, evaluator: $$"""{"type":"python","path":"{{file}}","groupwise":true}""");
        var snapshot = await fixture.RunToEnd("python-groupwise", spec);
        Assert.True(snapshot.Status == JobStatus.Completed, snapshot.LastError);
        var rollouts = await Client.Jobs.RolloutReader.ReadAllAsync(fixture.Cluster.Client.GetGrain<IJobGrain>("python-groupwise"), 0);
        Assert.NotEmpty(rollouts);
        // each group of n = 8 got ranks 0, 1/7, …, 1 by sample index: it reached the reward whole and in order
        Assert.All(rollouts, r => Assert.Equal(r.Sample / 7.0, r.Reward, 9));
    }
}
