using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains;
using Orleans.Rft.Grains.Placement;
using Orleans.Runtime;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>Trainer ranks live as long as their job needs them, say so when lost, and free abandoned generations.</summary>
[Collection(ClusterCollection.Name)]
public sealed class TrainerRankTests(ClusterFixture fixture)
{
    IGrainFactory Grains => fixture.Cluster.Client;

    async Task<List<string>> ActiveRanks(string jobId)
    {
        var stats = await Grains.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
        return stats.Select(s => s.GrainId.Key.ToString()!).Where(k => k.StartsWith(jobId + "|")).Distinct().ToList();
    }

    [Fact]
    public async Task A_rank_called_without_its_model_throws_TrainerRankLostException_not_a_NullReferenceException()
    {
        var silo = fixture.Cluster.Silos[0].SiloAddress.ToParsableString();
        var rank = Grains.GetGrain<ITrainerGrain>($"never-initialised|g0-r0|{DeviceKeys.For(silo, "cpu")}");
        await Assert.ThrowsAsync<TrainerRankLostException>(() => rank.GetFlatParameters());
        await Assert.ThrowsAsync<TrainerRankLostException>(() => rank.ReduceScatter(0));
        await Assert.ThrowsAsync<TrainerRankLostException>(() => rank.StageSamples(0, 0, new TrainBatchPart([], [], [])));
        // Peers pull slices from a rank during the exchange: a released rank's fresh activation must say it is lost too.
        await Assert.ThrowsAsync<TrainerRankLostException>(() => rank.GetGradientSlice(3, 0, 4));
        await Assert.ThrowsAsync<TrainerRankLostException>(() => rank.GetParameterSlice(3, 0, 4));
    }

    [Fact]
    public async Task A_rank_lost_mid_job_is_rebuilt_from_the_checkpoint_every_step_runs_once_and_no_rank_outlives_the_job()
    {
        const string id = "rank-lost";
        var job = Grains.GetGrain<IJobGrain>(id);
        await job.Submit(fixture.Spec(id, trainers: 2, maxSteps: 8) with { Checkpoint = new CheckpointSpec(EverySteps: 2, KeepBest: false) });
        while ((await job.GetSnapshot()).Step < 3) await Task.Delay(50);
        var before = await ActiveRanks(id);
        Assert.Equal(2, before.Count);
        // Release deactivates the rank as idle collection would: its next call meets a fresh activation.
        await Grains.GetGrain<ITrainerGrain>(before[1]).Release();
        var errors = new HashSet<string>();
        JobSnapshot s;
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (!(s = await job.GetSnapshot()).Status.IsFinal() && DateTime.UtcNow < deadline) { if (s.LastError is { } e) errors.Add(e); await Task.Delay(20); }
        Assert.True(s.Status == JobStatus.Completed, $"{s.Status}: {s.LastError}");
        Assert.Contains(errors, e => e.Contains(nameof(TrainerRankLostException)));
        Assert.DoesNotContain(errors, e => e.Contains(nameof(NullReferenceException)));
        Assert.Equal(Enumerable.Range(1, 8), (await job.GetHistory(0)).Select(h => h.Step));
        // The abandoned generation was released at the rebuild, the last one when the job finished.
        var until = DateTime.UtcNow.AddSeconds(15);
        List<string> left;
        while ((left = await ActiveRanks(id)).Count > 0 && DateTime.UtcNow < until) await Task.Delay(200);
        Assert.Empty(left);
    }

    [Fact]
    public async Task Ranks_are_not_collected_while_their_job_is_paused()
    {
        const string id = "rank-paused";
        var job = Grains.GetGrain<IJobGrain>(id);
        await job.Submit(fixture.Spec(id, trainers: 2, maxSteps: 200));
        while ((await job.GetSnapshot()).Step < 2) await Task.Delay(50);
        await job.Pause();
        int step;
        do { step = (await job.GetSnapshot()).Step; await Task.Delay(1500); } while ((await job.GetSnapshot()).Step != step);
        var generation = (await job.GetSnapshot()).Generation;
        var ranks = await ActiveRanks(id);
        Assert.Equal(2, ranks.Count);
        // Collect everything idle for 2 s, as Orleans' idle collection would after its age limit: the
        // ranks have been idle longer (they are kept by their lease), the job grain never is (its
        // keep-alive timer ticks every 200 ms while the job is unfinished).
        await Task.Delay(2500);
        await Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.FromSeconds(2));
        await Task.Delay(500);
        foreach (var key in ranks) Assert.NotEmpty(await Grains.GetGrain<ITrainerGrain>(key).GetFlatParameters()); // still the initialised activation
        await job.Resume();
        while ((await job.GetSnapshot()).Step < step + 2) await Task.Delay(50);
        Assert.Null((await job.GetSnapshot()).LastError);
        // Nor was the job's own activation collected: coming back would have rolled it back (a new generation).
        Assert.Equal(generation, (await job.GetSnapshot()).Generation);
        // One generation at a time: if the job's own activation was collected too (it rebuilds its
        // ranks when it comes back), the paused generation was released, not left holding memory.
        var until = DateTime.UtcNow.AddSeconds(15);
        while ((await ActiveRanks(id)).Count != 2 && DateTime.UtcNow < until) await Task.Delay(200);
        Assert.Equal(2, (await ActiveRanks(id)).Count);
        await job.Cancel();
    }

    [Fact]
    public async Task Ranks_started_by_an_earlier_activation_of_the_job_are_released_when_a_later_one_ends_the_job()
    {
        // The later activation never built a cluster: only the keys kept in the job state name the paused generation's ranks.
        const string id = "rank-abandoned";
        var job = Grains.GetGrain<IJobGrain>(id);
        await job.Submit(fixture.Spec(id, trainers: 2, maxSteps: 200));
        while ((await job.GetSnapshot()).Step < 2) await Task.Delay(50);
        await job.Pause();
        await JobWait.For(job, s => s.Events!.Any(e => e.Kind == "paused"));
        Assert.Equal(2, (await ActiveRanks(id)).Count);
        await job.Cast<Orleans.Core.Internal.IGrainManagementExtension>().DeactivateOnIdle();
        await Task.Delay(500);
        await job.Cancel();
        await JobWait.For(job, s => s.Status == JobStatus.Cancelled);
        var until = DateTime.UtcNow.AddSeconds(15);
        List<string> left;
        while ((left = await ActiveRanks(id)).Count > 0 && DateTime.UtcNow < until) await Task.Delay(200);
        Assert.Empty(left); // without the stored keys they would hold their device memory for their 24 h lease
    }
}
