using Orleans.Core.Internal;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>Restarts of a job's cluster: what it resumes from, and that the result is the uninterrupted run's.</summary>
[Collection(ClusterCollection.Name)]
public sealed class RollbackTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_damaged_latest_checkpoint_is_passed_over_for_the_previous_one_said_in_the_events_and_the_final_adapter_is_the_uninterrupted_runs()
    {
        var spec = fixture.Spec("damaged", trainers: 1, maxSteps: 10) with { Checkpoint = new CheckpointSpec(EverySteps: 2, KeepBest: false) };
        var reference = await fixture.RunToEnd("damaged-ref", spec with { Name = "damaged-ref" });
        Assert.True(reference.Status == JobStatus.Completed, reference.LastError);
        var expected = await AdapterComparison.Flat(fixture.Cluster.Client.GetGrain<IJobGrain>("damaged-ref"), Path.Combine(fixture.Root, "damaged-ref-adapter"));

        var job = fixture.Cluster.Client.GetGrain<IJobGrain>("damaged");
        await job.Submit(spec);
        await JobWait.For(job, s => s.Step >= 5);
        await job.Pause();
        var paused = await JobWait.For(job, s => s.Events!.Any(e => e.Kind == "paused"));  // applied by the step loop
        Assert.InRange(paused.Step, 5, 9);

        // Damage the newest checkpoint the state points at: its optimizer shard is lost.
        var store = new LocalArtifactStore(Path.Combine(fixture.Root, "artifacts"));
        var newest = (await store.ListAsync("jobs/damaged/checkpoints")).Select(p => string.Join('/', p.Split('/').Take(4))).Distinct().Max(StringComparer.Ordinal)!;
        var newestStep = int.Parse(newest[^6..]);
        File.Delete(Path.Combine(store.Root, newest, "optimizer-rank0.safetensors"));

        // A new activation must rebuild the ranks and roll back; it comes up paused, as it was left.
        await job.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        await Task.Delay(500);
        Assert.Equal(JobStatus.Paused, (await job.GetSnapshot()).Status);
        await job.Resume();
        var final = await JobWait.For(job, s => s.Status.IsFinal());
        Assert.True(final.Status == JobStatus.Completed, final.LastError);
        Assert.Equal(10, final.Step);
        Assert.Equal(Enumerable.Range(1, 10), (await job.GetHistory(0)).Select(h => h.Step));
        var damaged = Assert.Single(final.Events!, e => e.Kind == "checkpoint-damaged");
        Assert.Contains($"step {newestStep} is damaged", damaged.Message);
        Assert.Contains($"falling back to the checkpoint of step {newestStep - 2}", damaged.Message);
        Assert.Contains(final.Events!, e => e.Kind == "rollback" && e.Message.Contains($"resumes at step {newestStep - 2}"));
        Assert.False(Directory.Exists(Path.Combine(store.Root, newest)), "the damaged checkpoint is deleted once the state no longer names it");
        // The full event log is in the artifact store too.
        Assert.Contains("checkpoint-damaged", System.Text.Encoding.UTF8.GetString((await store.ReadAsync("jobs/damaged/events.jsonl"))!));

        AdapterComparison.AssertSame(expected, await AdapterComparison.Flat(job, Path.Combine(fixture.Root, "damaged-adapter")), "resumed past a damaged checkpoint");
    }

    [Fact]
    public async Task A_restart_without_any_checkpoint_rolls_back_to_the_start_and_ends_with_the_uninterrupted_adapter()
    {
        // No checkpoint yet: whatever step (0 included) and version the lost run reached, it all restarts from version 0.
        var spec = fixture.Spec("nockpt", trainers: 1, maxSteps: 6) with { Checkpoint = new CheckpointSpec(EverySteps: 0, KeepBest: false) };
        var reference = await fixture.RunToEnd("nockpt-ref", spec with { Name = "nockpt-ref" });
        Assert.True(reference.Status == JobStatus.Completed, reference.LastError);
        var expected = await AdapterComparison.Flat(fixture.Cluster.Client.GetGrain<IJobGrain>("nockpt-ref"), Path.Combine(fixture.Root, "nockpt-ref-adapter"));

        var job = fixture.Cluster.Client.GetGrain<IJobGrain>("nockpt");
        await job.Submit(spec);
        await JobWait.For(job, s => s.Step >= 1);
        await job.Pause();
        await JobWait.For(job, s => s.Events!.Any(e => e.Kind == "paused"));
        await job.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        await Task.Delay(500);
        await job.Resume();
        var final = await JobWait.For(job, s => s.Status.IsFinal());
        Assert.True(final.Status == JobStatus.Completed, final.LastError);
        Assert.Contains(final.Events!, e => e.Kind == "rollback" && e.Message.Contains("resumes at step 0 from the start"));
        Assert.Equal(6, final.PolicyVersion);
        Assert.Equal(Enumerable.Range(1, 6), (await job.GetHistory(0)).Select(h => h.Step));
        AdapterComparison.AssertSame(expected, await AdapterComparison.Flat(job, Path.Combine(fixture.Root, "nockpt-adapter")), "restarted from scratch");
    }
}

public static class JobWait
{
    public static async Task<JobSnapshot> For(IJobGrain job, Func<JobSnapshot, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(2));
        while (DateTime.UtcNow < deadline)
        {
            var s = await job.GetSnapshot();
            if (condition(s)) return s;
            await Task.Delay(100);
        }
        throw new TimeoutException($"condition not reached: {await job.GetSnapshot()}");
    }
}
