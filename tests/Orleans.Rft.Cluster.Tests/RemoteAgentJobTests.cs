using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// A training job whose rollouts run on a real remote agent server (remote_agent_server.py, a separate
/// Python process) that calls back into the silo's <c>/rollouts/{id}/v1</c> with its token. One job holds
/// one row per behaviour (normal, the three ways to report completion, every failure mode, a re-rendered
/// prefix); the tests read its rollout log. Greedy sampling (top_k 1) of the fixture's tool model makes the normal
/// row's two calls a tool call and, after the tool's result, the final answer.
/// </summary>
[Collection(HttpCollection.Name)]
public sealed class RemoteAgentJobTests(HttpFixture fixture)
{
    const double TimeoutSeconds = 6;
    static readonly string[] Modes = ["normal", "push_status", "push_logs", "status_404", "init_400", "init_500", "never", "garbage", "wrong_token", "error_status", "rerender"];
    static readonly SemaphoreSlim once = new(1, 1);
    static JobRun? run;

    sealed record JobRun(JobSnapshot Snapshot, IReadOnlyList<Rollout> Rollouts, IReadOnlyList<StepMetrics> History, List<JsonObject> Events, string JobId, double Seconds);

    async Task<JobRun> Run()
    {
        await once.WaitAsync();
        try
        {
            if (run is not null) return run;
            using var agent = await AgentServerProcess.StartAsync(new Dictionary<string, string> { ["RFT_LOG_KEY"] = HttpFixture.LogKey });
            var root = Path.Combine(fixture.Toy.Root, "remote-agent-job");
            Directory.CreateDirectory(root);
            var dataset = Path.Combine(root, "rows.jsonl");
            await File.WriteAllLinesAsync(dataset, Modes.Select(mode => new JsonObject
            {
                ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = mode == "normal" ? HttpFixture.WeatherQuestion : $"{HttpFixture.WeatherQuestion} mode:{mode}" }),
                ["tools"] = new JsonArray(HttpFixture.WeatherTool),
                ["ground_truth"] = "sunny",
            }.ToJsonString()));
            var agentJson = new JsonObject
            {
                ["type"] = "remote", ["url"] = agent.Url, ["timeout_seconds"] = TimeoutSeconds, ["max_concurrent_rollouts"] = 32,
                ["poll_interval_seconds"] = 0.2, ["headers"] = new JsonObject { ["X-Test-Header"] = "sent-on-every-call" },
            }.ToJsonString();
            var spec = new JobSpec("remote-agent", fixture.ToolModelDir, dataset, null, """{"type":"contains"}""",
                new TrainingSpec(LearningRate: 1e-3, BatchPrompts: Modes.Length, MicroBatch: 16, Trainers: 1, MaxSteps: 1),
                new InferenceSpec(N: 2, TopK: 1, MaxTokens: 96),
                new LossSpec(), new CheckpointSpec(EverySteps: 10), EvalEvery: 0, Seed: 7, BaseDirectory: root, AgentJson: agentJson);
            var grains = fixture.Host.Services.GetRequiredService<IGrainFactory>();
            var jobId = "remote-" + Guid.NewGuid().ToString("N")[..8];
            var watch = Stopwatch.StartNew();
            var snapshot = await ClusterFixture.RunToEnd(grains, jobId, spec, TimeSpan.FromMinutes(4));
            var job = grains.GetGrain<IJobGrain>(jobId);
            var page = await job.GetRollouts(0, 0, 100);
            return run = new JobRun(snapshot, page.Rollouts, await job.GetHistory(0), agent.Events(), jobId, watch.Elapsed.TotalSeconds);
        }
        finally { once.Release(); }
    }

    static IEnumerable<Rollout> Of(JobRun r, string mode) => r.Rollouts.Where(x => x.Row == Array.IndexOf(Modes, mode) + 1); // Row is the 1-based line

    [Fact]
    public async Task A_job_whose_remote_rollouts_fail_in_every_way_still_completes_its_step()
    {
        var r = await Run();
        Assert.True(r.Snapshot.Status == JobStatus.Completed, $"the job ended {r.Snapshot.Status}: {r.Snapshot.LastError}");
        Assert.Equal(Modes.Length * 2, r.Rollouts.Count);
        Assert.Single(r.History);
        // The step waited for its slowest rollouts (the deadline ones), not longer: every end came at its deadline or sooner.
        Assert.InRange(r.History[0].RolloutSeconds, TimeoutSeconds * 0.9, TimeoutSeconds + 20);
    }

    [Theory]
    [InlineData("init_400", "init_refused", "answered 400")]
    [InlineData("init_500", "server_error", "answered 500")]
    [InlineData("never", "deadline", "did not finish within timeout_seconds")]
    [InlineData("garbage", "bad_status", "not JSON")]
    [InlineData("wrong_token", "bad_token", "wrong or missing token")]
    [InlineData("error_status", "bad_status", "INTERNAL (13)")]
    public async Task Each_remote_failure_is_recorded_with_its_kind_and_reason_and_kept_out_of_the_baseline(string mode, string kind, string reason)
    {
        var r = await Run();
        var rollouts = Of(r, mode).ToList();
        Assert.Equal(2, rollouts.Count);
        foreach (var x in rollouts)
        {
            Assert.Equal(kind, x.Agent!.FailureKind);
            Assert.Contains(reason, x.Agent.Failure);
            Assert.False(x.IsScoreValid);
            Assert.StartsWith($"agent {kind}:", x.Reason);
            Assert.Equal(0, x.Advantage);
        }
    }

    [Theory]
    [InlineData("normal")]
    [InlineData("push_status")]
    [InlineData("push_logs")]
    [InlineData("status_404")]
    public async Task A_remote_rollout_ends_by_polling_by_a_pushed_status_or_by_a_log_line_with_the_agents_score(string mode)
    {
        var r = await Run();
        foreach (var x in Of(r, mode))
        {
            Assert.Null(x.Agent!.FailureKind);
            Assert.Equal(2, x.Agent.ModelCalls);
            Assert.Equal(0.75, x.Agent.ReportedScore);
        }
    }

    [Fact]
    public async Task Consecutive_remote_calls_that_extend_each_other_merge_into_one_masked_sequence()
    {
        var r = await Run();
        foreach (var x in Of(r, "normal"))
        {
            Assert.Equal(0, x.ExtraSamples);
            // the tool call, the tool's result (inserted, masked out), then the final answer, trained
            Assert.Contains(false, x.Mask!);
            Assert.True(x.Mask![0] && x.Mask[^1]);
            Assert.Equal(HttpFixture.FinalAnswer, x.Completion);
            Assert.Equal(1.0, x.Reward);
            var messages = JsonNode.Parse(x.Agent!.MessagesJson)!.AsArray();
            Assert.Equal(["assistant", "tool", "assistant"], messages.Select(m => m!["role"]!.GetValue<string>()));
            Assert.Equal("get_weather", messages[0]!["tool_calls"]![0]!["function"]!["name"]!.GetValue<string>());
            Assert.Equal(1, x.Agent.ToolCalls);
        }
    }

    [Fact]
    public async Task A_remote_call_that_re_renders_the_conversation_starts_a_sequence_of_its_own()
    {
        var r = await Run();
        foreach (var x in Of(r, "rerender"))
        {
            Assert.Null(x.Agent!.FailureKind);
            Assert.Equal(2, x.Agent.ModelCalls);
            Assert.Equal(1, x.ExtraSamples);
            Assert.All(x.Mask!, Assert.True); // one call per sequence: every completion token is the model's own
        }
    }

    [Fact]
    public async Task The_agent_server_gets_the_jobs_sampling_settings_its_token_and_the_specs_headers()
    {
        var r = await Run();
        var inits = r.Events.Where(e => e["kind"]!.GetValue<string>() == "init").ToList();
        Assert.Equal(Modes.Length * 2, inits.Select(e => e["rollout_id"]!.GetValue<string>()).Distinct().Count());
        var failing = inits.Where(e => e["mode"]!.GetValue<string>() == "init_500").ToList();
        Assert.True(failing.Count > 2 * failing.Select(e => e["rollout_id"]!.GetValue<string>()).Distinct().Count()); // a 500 from /init is retried
        Assert.Equal(2, inits.Count(e => e["mode"]!.GetValue<string>() == "init_400")); // a 400 never is
        foreach (var e in inits)
        {
            Assert.Equal("sent-on-every-call", e["header"]!.GetValue<string>());
            Assert.True(e["has_key"]!.GetValue<bool>());
            var cp = e["completion_params"]!.AsObject();
            Assert.Equal($"jobs/{r.JobId}", cp["model"]!.GetValue<string>());
            Assert.Equal(1.0, cp["temperature"]!.GetValue<double>());
            Assert.Equal(1, cp["top_k"]!.GetValue<int>());
            Assert.Equal(96, cp["max_tokens"]!.GetValue<int>());
            var meta = e["metadata"]!.AsObject();
            Assert.Equal(r.JobId, meta["experiment_id"]!.GetValue<string>());
            Assert.Equal(e["rollout_id"]!.GetValue<string>(), meta["rollout_id"]!.GetValue<string>());
        }
        var refused = r.Events.Where(e => e["kind"]!.GetValue<string>() == "refused").ToList();
        Assert.Equal(2 * Orleans.Rft.Agents.Remote.RemoteRolloutRegistry.MaxRefusedCalls, refused.Count); // each wrong_token rollout is refused until it ends as bad_token
        Assert.All(refused, e => Assert.Contains("chat answered 401", e["error"]!.GetValue<string>()));
        Assert.All(r.Events.Where(e => e["kind"]!.GetValue<string>() == "logged"), e => Assert.Equal(200, e["status"]!.GetValue<int>()));
    }
}
