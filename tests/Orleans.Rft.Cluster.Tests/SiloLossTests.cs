using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Silo;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// A silo that dies mid-job (no goodbye) costs the job a rollback to its last checkpoint, not the job,
/// and not its result: the final adapter is the one an uninterrupted run with the same seed ends with.
/// Determinism needs the same rollout split: a batch is cut into one request per rollout worker (each
/// seeded by its index), so the test brings in a replacement silo at once — with a single worker the
/// batch would be one request with other seeds, and the samples (hence the adapter) would differ.
/// </summary>
public sealed class SiloLossTests
{
    [Fact]
    public async Task A_job_survives_the_abrupt_loss_of_the_silo_holding_one_of_its_trainer_ranks()
    {
        await using var toy = new ClusterFixture();
        await toy.InitializeModelAndData();
        var options = toy.LocalOptions();
        var cluster = ClusterFixture.BuildCluster(2, options);
        await cluster.DeployAsync();
        try
        {
            var spec = toy.Spec("loss", trainers: 2, maxSteps: 10) with { Checkpoint = new CheckpointSpec(EverySteps: 2, KeepBest: false) };
            var job = cluster.Client.GetGrain<IJobGrain>("loss");
            await job.Submit(spec);
            while ((await job.GetSnapshot()).Step < 3) await Task.Delay(50);

            // Kill the silo that does not host the job grain: it holds rank 1 and a rollout worker.
            var stats = await cluster.Client.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
            var jobSilo = stats.Single(s => s.GrainId.Key.ToString() == "loss" && s.GrainId.Type.ToString()!.Contains("job")).SiloAddress;
            var victim = cluster.Silos.Single(s => !s.SiloAddress.Equals(jobSilo));
            await cluster.KillSiloAsync(victim);
            await cluster.StartAdditionalSiloAsync();

            var deadline = DateTime.UtcNow.AddMinutes(3);
            JobSnapshot s;
            var errors = new HashSet<string>();
            while (!(s = await job.GetSnapshot()).Status.IsFinal() && DateTime.UtcNow < deadline) { if (s.LastError is { } e) errors.Add(e); await Task.Delay(50); }
            Assert.True(s.Status == JobStatus.Completed, $"{s.Status}: {s.LastError}");
            Assert.Contains(errors, e => e.StartsWith("retrying after")); // the loss was felt, and recovered from
            Assert.Equal(10, s.Step);
            Assert.Equal(Enumerable.Range(1, 10), (await job.GetHistory(0)).Select(h => h.Step));
            Assert.Contains(s.Events!, e => e.Kind == "rollback");
            // Redone steps published their versions under the new run's names; clean-up left only the final adapter.
            var store = new Grains.Services.LocalArtifactStore(options.ArtifactsPath);
            Assert.Equal([$"g{s.Generation:D4}-v000010"], (await store.ListAsync("jobs/loss/adapters")).Select(p => p.Split('/')[3]).Distinct());

            var reference = await ClusterFixture.RunToEnd(cluster.Client, "loss-ref", spec with { Name = "loss-ref" });
            Assert.True(reference.Status == JobStatus.Completed, reference.LastError);
            AdapterComparison.AssertSame(
                await AdapterComparison.Flat(cluster.Client.GetGrain<IJobGrain>("loss-ref"), Path.Combine(toy.Root, "loss-ref-adapter")),
                await AdapterComparison.Flat(job, Path.Combine(toy.Root, "loss-adapter")), "after a silo loss");
        }
        finally { await cluster.DisposeAsync(); }
    }
}
