using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Core.Internal;
using Orleans.Rft.Engine.Training;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs;
using Orleans.Rft.Grains.Services;
using Orleans.Runtime;
using Orleans.Storage;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>Upgrading the silos: a job whose checkpoints and state the previous version (commit 327e63a) wrote goes on from them.</summary>
[Collection(ClusterCollection.Name)]
public sealed class LegacyCheckpointTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_job_with_checkpoints_of_the_previous_layout_resumes_from_its_newest_one_with_the_optimizer_restored_and_keeps_it()
    {
        const string id = "legacy";
        var spec = fixture.Spec(id, trainers: 2, maxSteps: 8) with { Checkpoint = new CheckpointSpec(EverySteps: 2, KeepBest: false) };
        var reference = await fixture.RunToEnd("legacy-ref", spec with { Name = "legacy-ref" });
        Assert.True(reference.Status == JobStatus.Completed, reference.LastError);
        var expected = await AdapterComparison.Flat(fixture.Cluster.Client.GetGrain<IJobGrain>("legacy-ref"), Path.Combine(fixture.Root, "legacy-ref-adapter"));

        // The old silos ran the job to a checkpoint at step ≥ 4; then every silo was replaced by the new version.
        var job = fixture.Cluster.Client.GetGrain<IJobGrain>(id);
        await job.Submit(spec);
        await JobWait.For(job, s => s.Step >= 4);
        await job.Pause();
        await JobWait.For(job, s => s.Events!.Any(e => e.Kind == "paused"));
        await job.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        await Task.Delay(500);

        var storage = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>("rft");
        var grainId = job.GetGrainId();
        var stored = new GrainState<JobState>();
        await storage.ReadStateAsync("job", grainId, stored);
        var legacy = await RewriteAsLegacy(new LocalArtifactStore(Path.Combine(fixture.Root, "artifacts")), stored.State!);
        await storage.WriteStateAsync("job", grainId, stored);
        var control = new GrainState<JobControlRequests>();
        await storage.ReadStateAsync("job-control", grainId, control);
        control.State = new JobControlRequests();                  // the old version had no control state
        await storage.WriteStateAsync("job-control", grainId, control);
        var newest = legacy.MaxBy(c => c.Step)!;

        var final = await JobWait.For(job, s => s.Status.IsFinal(), TimeSpan.FromMinutes(3));
        Assert.True(final.Status == JobStatus.Completed, final.LastError);
        Assert.DoesNotContain(final.Events!, e => e.Kind == "checkpoint-damaged");
        Assert.Contains(final.Events!, e => e.Kind == "rollback" && e.Message.Contains($"resumes at step {newest.Step} from {newest.Prefix}"));
        Assert.Equal(Enumerable.Range(1, 8), (await job.GetHistory(0)).Select(h => h.Step));
        // keep_last 3 of checkpoints every 2 steps up to 8: the newest old one is still among them, whole.
        var store = new LocalArtifactStore(Path.Combine(fixture.Root, "artifacts"));
        Assert.NotNull(await store.ReadAsync($"{newest.Prefix}/job.json"));
        Assert.NotNull(await store.ReadAsync($"{newest.Prefix}/optimizer-rank1.json"));
        Assert.NotNull(await store.ReadAsync($"{newest.Prefix}/adapter/adapter_model.safetensors"));
        // Equal to the uninterrupted run only if the adapter and both ranks' AdamW moments came back from the JSON shards.
        AdapterComparison.AssertSame(expected, await AdapterComparison.Flat(job, Path.Combine(fixture.Root, "legacy-adapter")), "resumed from a checkpoint of the previous layout");
    }

    /// <summary>
    /// Turns the job's files and state into what commit 327e63a wrote: <c>checkpoints/step-NNNNNN</c>
    /// with <c>optimizer-rank{r}.json</c> (System.Text.Json of AdamWState), job.json without a
    /// generation, no manifest; adapters at <c>adapters/vNNNNNN</c>; state of generation 0 without events.
    /// </summary>
    static async Task<List<CheckpointRef>> RewriteAsLegacy(LocalArtifactStore store, JobState s)
    {
        var root = $"jobs/{s.Spec!.Name}";
        var checkpoints = new List<CheckpointRef>();
        foreach (var c in s.Checkpoints)
        {
            var old = c with { Prefix = $"{root}/checkpoints/step-{c.Step:D6}" };
            Directory.Move(Path.Combine(store.Root, c.Prefix), Path.Combine(store.Root, old.Prefix));
            File.Delete(Path.Combine(store.Root, old.Prefix, CheckpointManifest.FileName)); // the store deletes folders only
            for (int r = 0; r < s.Spec.Training.Trainers; r++)
            {
                var shard = OptimizerShard.Read((await store.ReadAsync($"{old.Prefix}/optimizer-rank{r}.safetensors"))!, "test");
                await store.WriteAsync($"{old.Prefix}/optimizer-rank{r}.json", JsonSerializer.SerializeToUtf8Bytes(shard));
                File.Delete(Path.Combine(store.Root, old.Prefix, $"optimizer-rank{r}.safetensors"));
            }
            var job = JsonNode.Parse((await store.ReadAsync($"{old.Prefix}/job.json"))!)!.AsObject();
            job.Remove("Generation");
            await store.WriteAsync($"{old.Prefix}/job.json", JsonSerializer.SerializeToUtf8Bytes(job));
            checkpoints.Add(old);
        }
        Assert.NotEmpty(checkpoints);
        foreach (var gone in Directory.GetDirectories(Path.Combine(store.Root, root, "checkpoints")).Where(d => !Path.GetFileName(d).StartsWith("step-")))
            Directory.Delete(gone, recursive: true);
        var adapter = $"{root}/adapters/v{s.PolicyVersion:D6}";
        Directory.Move(Path.Combine(store.Root, s.AdapterPath!), Path.Combine(store.Root, adapter));
        foreach (var gone in Directory.GetDirectories(Path.Combine(store.Root, root, "adapters")).Where(d => Path.GetFileName(d).StartsWith('g')))
            Directory.Delete(gone, recursive: true);
        File.Delete(Path.Combine(store.Root, root, "events.jsonl"));
        (s.Generation, s.Checkpoints, s.LastCheckpoint, s.AdapterPath) = (0, checkpoints, checkpoints.MaxBy(c => c.Step), adapter);
        (s.RetiredAdapters, s.Events, s.BestAdapterPath, s.Status) = ([], [], null, JobStatus.Running);
        return checkpoints;
    }
}
