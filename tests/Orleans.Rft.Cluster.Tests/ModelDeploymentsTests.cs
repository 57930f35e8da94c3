using Microsoft.Extensions.DependencyInjection;
using Orleans.Rft.Engine.Lora;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Cluster.Tests;

/// <summary><c>rft deploy</c>'s grain: a deployment owns a copy of the adapter, so it outlives the job's pruning of its own folders.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ModelDeploymentsTests(ClusterFixture fixture)
{
    IModelDeploymentsGrain Deployments => fixture.Cluster.Client.GetGrain<IModelDeploymentsGrain>(0);
    IArtifactStore Store => fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IArtifactStore>();

    [Fact]
    public async Task A_deployment_still_loads_after_the_job_trained_on_and_retired_the_adapter_it_was_deployed_from()
    {
        // No checkpoints kept: every step retires the previous step's adapter folder.
        var spec = fixture.Spec("deploy-src", trainers: 1, maxSteps: 4) with { Checkpoint = new CheckpointSpec(EverySteps: 1000, KeepBest: false, KeepLast: 1) };
        var job = fixture.Cluster.Client.GetGrain<IJobGrain>("deploy-src");
        await job.Submit(spec);
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while ((await job.GetSnapshot()).Step < 1 && DateTime.UtcNow < deadline) await Task.Delay(100);

        var deployment = await Deployments.Deploy("toy-v1", "deploy-src", null);
        var source = (await job.GetAdapter(deployment.Step)).ArtifactPath;
        Assert.StartsWith("deployments/toy-v1/", deployment.AdapterPath);
        Assert.Equal(spec.BaseModel, deployment.BaseModel);
        Assert.Equal(spec.BaseModelDisplayName, deployment.BaseModelDisplayName); // the adapter's base_model_name_or_path

        deadline = DateTime.UtcNow.AddMinutes(3);
        JobSnapshot final;
        while (!(final = await job.GetSnapshot()).Status.IsFinal() && DateTime.UtcNow < deadline) await Task.Delay(200);
        Assert.True(final.Status == JobStatus.Completed, final.LastError);
        Assert.True(final.Step > deployment.Step, $"the job ended at step {final.Step}, the deployment is of step {deployment.Step}");
        Assert.False(await Store.ExistsAsync($"{source}/{PeftAdapter.WeightsFile}"), $"the job kept {source}; the test needs it retired");

        using var model = LanguageModel.Load(fixture.ModelDir);
        PeftAdapter.Load(model, await Store.MaterializeAsync(deployment.AdapterPath));
        Assert.Contains(await Deployments.List(), d => d.Name == "toy-v1" && d.JobId == "deploy-src" && d.Step == deployment.Step);
        Assert.True(await Deployments.Undeploy("toy-v1"));
    }

    [Fact]
    public async Task Deploying_a_name_again_replaces_it_and_deletes_the_old_copy_and_undeploy_deletes_the_files()
    {
        var snapshot = await fixture.RunToEnd("deploy-re", fixture.Spec("deploy-re", trainers: 1, maxSteps: 2) with { Checkpoint = new CheckpointSpec(EverySteps: 1) });
        Assert.True(snapshot.Status == JobStatus.Completed, snapshot.LastError);

        var first = await Deployments.Deploy("re", "deploy-re", 1);
        var second = await Deployments.Deploy("re", "deploy-re", null);
        Assert.Equal((1, 2), (first.Step, second.Step));
        Assert.NotEqual(first.AdapterPath, second.AdapterPath);
        Assert.Empty(await Store.ListAsync(first.AdapterPath));
        Assert.True(await Store.ExistsAsync($"{second.AdapterPath}/{PeftAdapter.ConfigFile}"));
        Assert.Equal(second, Assert.Single(await Deployments.List(), d => d.Name == "re"));

        Assert.True(await Deployments.Undeploy("re"));
        Assert.Empty(await Store.ListAsync(second.AdapterPath));
        Assert.DoesNotContain(await Deployments.List(), d => d.Name == "re");
        Assert.False(await Deployments.Undeploy("re"));
    }

    [Theory]
    [InlineData("jobs/abc", "clashes with the endpoint's job forms")]
    [InlineData("jobs", "clashes with the endpoint's job forms")]
    [InlineData("team/model", "names with '/' are reserved")]
    [InlineData("-lead", "must start with a letter or a digit")]
    [InlineData("a b", "contains ' '")]
    [InlineData("a..b", "contains '..'")]
    [InlineData("", "needs a name")]
    public async Task A_bad_name_is_refused_with_the_reason_before_any_job_is_asked(string name, string reason)
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => Deployments.Deploy(name, "no-such-job", null));
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public async Task A_name_of_65_characters_is_refused_and_an_unknown_job_is_named()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => Deployments.Deploy(new string('a', 65), "x", null));
        Assert.Contains("at most 64", e.Message);
        e = await Assert.ThrowsAsync<ArgumentException>(() => Deployments.Deploy("ok-name", "no-such-job", null));
        Assert.Contains("no job 'no-such-job'", e.Message);
    }
}
