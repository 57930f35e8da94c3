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
    async Task<(int[] Prompt, int[] Completion)> GreedyChat(string model, string user)
    {
        using var http = HttpTestClient.Raw(fx.Host);
        var (status, body) = await http.PostAsync("v1/chat/completions", new JsonObject
        {
            ["model"] = model, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = user }),
            ["max_tokens"] = 24, ["temperature"] = 0, ["return_token_ids"] = true,
        });
        Assert.True(status == 200, body.ToJsonString());
        return (HttpTestClient.Ints(body["prompt_token_ids"]), HttpTestClient.Ints(body["choices"]![0]!["token_ids"]));
    }

    int[] Engine(string? adapterDir, int[] prompt) =>
        HttpTestClient.Engine(fx.Toy.ModelDir, adapterDir, prompt, new SamplingOptions(Temperature: 0, MaxTokens: 24)).TokenIds;

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

    [Fact]
    public async Task A_jobs_latest_adapter_and_a_checkpoint_are_served_as_jobs_id_and_jobs_id_steps_n()
    {
        var grains = fx.Host.Services.GetRequiredService<IGrainFactory>();
        var spec = fx.Toy.Spec("http-job", trainers: 1, maxSteps: 2) with { Checkpoint = new CheckpointSpec(EverySteps: 1) };
        var snapshot = await ClusterFixture.RunToEnd(grains, "http-job", spec);
        Assert.Equal(JobStatus.Completed, snapshot.Status);
        var job = grains.GetGrain<IJobGrain>("http-job");
        foreach (var (model, step) in new[] { ("jobs/http-job", (int?)null), ("jobs/http-job/steps/1", 1) })
        {
            var adapter = await job.GetAdapter(step);
            var (prompt, served) = await GreedyChat(model, "job please");
            Assert.Equal(Engine(Path.Combine(fx.ArtifactsRoot, adapter.ArtifactPath), prompt), served);
        }
    }
}
