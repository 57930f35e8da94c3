using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Sampling;
using Orleans.Rft.GrainInterfaces;
using Microsoft.Extensions.DependencyInjection;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// Adapters served by name: a greedy completion through HTTP equals <c>rft model generate</c> with
/// the same model and adapter (the engine alone: <see cref="Sampler.Generate"/>), token for token.
/// </summary>
[Collection(HttpCollection.Name)]
public sealed class HttpAdapterTests(HttpFixture fx)
{
    async Task<(int[] Prompt, int[] Completion)> GreedyChat(string model, string user, long? seed = null)
    {
        using var http = HttpTestClient.Raw(fx.Host);
        var (status, body) = await http.PostAsync("v1/chat/completions", new JsonObject
        {
            ["model"] = model, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = user }),
            ["max_tokens"] = 24, ["temperature"] = seed is null ? 0 : 1, ["seed"] = seed, ["return_token_ids"] = true,
        });
        Assert.True(status == 200, body.ToJsonString());
        return (HttpTestClient.Ints(body["prompt_token_ids"]), HttpTestClient.Ints(body["choices"]![0]!["token_ids"]));
    }

    int[] Engine(string? adapterDir, int[] prompt, long? seed = null) =>
        HttpTestClient.Engine(fx.Toy.ModelDir, adapterDir, prompt, seed is long s
            ? new SamplingOptions(Temperature: 1, MaxTokens: 24, RowSeeds: [SamplingOptions.RowSeed(s, 0)])
            : new SamplingOptions(Temperature: 0, MaxTokens: 24)).TokenIds;

    [Fact]
    public async Task A_greedy_completion_with_a_configured_adapter_equals_the_engine_with_that_adapter_token_for_token()
    {
        var (prompt, served) = await GreedyChat("toy-lora", "adapter please");
        Assert.Equal(HttpTestClient.ChatPrompt(fx.Toy.ModelDir, [ChatMessage.User("adapter please")]), prompt);
        Assert.Equal(Engine(fx.AdapterDir, prompt), served);
        Assert.NotEqual(Engine(null, prompt), served); // the adapter changes the answer: it was applied
        var (_, baseAgain) = await GreedyChat("toy", "adapter please");
        Assert.Equal(Engine(null, prompt), baseAgain); // and the base model served after it has it switched off
    }

    [Fact]
    public async Task A_deployed_adapter_is_loaded_from_the_artifact_store_and_a_new_version_under_the_same_name_replaces_it()
    {
        var (prompt, served) = await GreedyChat("deployed", "deployed please");
        Assert.Equal(Engine(Path.Combine(fx.ArtifactsRoot, HttpFixture.DeployedAdapterPath), prompt), served);

        var v3 = HttpFixture.DeployedAdapterPath + "-v3";
        HttpFixture.WriteAdapter(fx.Toy.ModelDir, Path.Combine(fx.ArtifactsRoot, v3), seed: 9, rank: 2);
        var before = fx.Deployments.Current;
        try
        {
            fx.Deployments.Set([new ModelDeployment("deployed", "job-x", 6, 3, fx.Toy.ModelDir, v3, DateTimeOffset.UtcNow)]);
            var (_, redeployed) = await GreedyChat("deployed", "deployed please");
            Assert.Equal(Engine(Path.Combine(fx.ArtifactsRoot, v3), prompt), redeployed);
            Assert.NotEqual(served, redeployed);
        }
        finally { fx.Deployments.Set(before); }
    }

    /// <summary>
    /// A few steps barely move a job's greedy answer, so this compares seeded samples at temperature 1,
    /// which follow small changes of the distribution (and differ from the base model's).
    /// </summary>
    [Fact]
    public async Task A_jobs_latest_adapter_and_a_checkpoint_are_served_as_jobs_id_and_jobs_id_steps_n()
    {
        var grains = fx.Host.Services.GetRequiredService<IGrainFactory>();
        var spec = fx.Toy.Spec("http-job", trainers: 1, maxSteps: 4, lr: 0.2) with { Checkpoint = new CheckpointSpec(EverySteps: 2) };
        var snapshot = await ClusterFixture.RunToEnd(grains, "http-job", spec);
        Assert.Equal(JobStatus.Completed, snapshot.Status);
        var job = grains.GetGrain<IJobGrain>("http-job");
        var (prompt, latest) = await GreedyChat("jobs/http-job", "job please", seed: 5);
        Assert.Equal(Engine(Path.Combine(fx.ArtifactsRoot, (await job.GetAdapter(null)).ArtifactPath), prompt, seed: 5), latest);
        Assert.NotEqual(Engine(null, prompt, seed: 5), latest); // the adapter was applied
        var (_, checkpoint) = await GreedyChat("jobs/http-job/steps/2", "job please", seed: 5);
        Assert.Equal(Engine(Path.Combine(fx.ArtifactsRoot, (await job.GetAdapter(2)).ArtifactPath), prompt, seed: 5), checkpoint);
        Assert.NotEqual(latest, checkpoint); // the checkpoint's weights, not the latest ones
    }
}
