using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace Orleans.Rft.Grains;

/// <summary>
/// A silo leaving gracefully (SIGTERM): the job stops sending it rollouts, and at the next step boundary
/// checkpoints its ranks at the current step, releases them and starts them again elsewhere from that
/// checkpoint (no step lost); if the job grain itself runs there, it moves to another silo.
/// </summary>
public sealed partial class JobGrain : IJobDrain
{
    ElasticWorkers? elastic;
    ElasticWorkers Elastic => elastic ??= new ElasticWorkers(GrainFactory, siloMetadata, () => S.DrainingSilos);
    bool movePending, leaveThisSilo;
    SiloAddress LocalSilo => ServiceProvider.GetRequiredService<ILocalSiloDetails>().SiloAddress;

    public async Task<DrainAnswer> Drain(string silo)
    {
        if (S.Spec is null || S.Status.IsFinal()) return new DrainAnswer(JobId, 0, false);
        Elastic.MarkDraining(silo);
        var ranks = SiloDrainPlan.RanksOn(S.TrainerKeys, silo).Count;
        // The job grain moves only where another silo can take it (the last silo of a cluster stops with its job, which its reminder restarts).
        var here = LocalSilo.ToParsableString() == silo && await Elastic.OtherSilo(LocalSilo) is not null;
        if (ranks > 0 || here) movePending = true;
        leaveThisSilo |= here;
        logger.LogInformation("Job {JobId}: silo {Silo} drains; {Ranks} trainer rank(s) there move at the next step boundary{Here}", JobId, silo, ranks, here ? ", and the job grain moves off it" : "");
        return new DrainAnswer(JobId, ranks, here);
    }

    /// <summary>True when no step may run in this activation now (the job grain is moving to another silo).</summary>
    async Task<bool> MoveOffDrainingSilos()
    {
        if (!movePending) return leaveThisSilo; // moving off this silo: no step here meanwhile
        movePending = false;
        // The ranks hold the optimizer state: a checkpoint at this step carries it to their successors.
        if (cluster is not null && runner is not null && S.AdapterPath is not null && S.LastCheckpoint?.Step != S.Step)
            await Checkpoints.Write(S, cluster.Trainers, best: false);
        S.MovedForDrain = true;
        await Checkpoints.CommitAsync(S, WriteState, adapter => prefetched.Any(p => p.AdapterPath == adapter));
        // Released now, not at the next EnsureCluster: the draining silo waits for its ranks to go, also while the job is paused.
        if (cluster is not null) await cluster.Release();
        (cluster, runner) = (null, null);
        if (!leaveThisSilo) return false;
        if (await Elastic.OtherSilo(LocalSilo) is { } target)
        {
            logger.LogInformation("Job {JobId} moves to silo {Target} at step {Step}", JobId, target, S.Step);
            RequestContext.Set(IPlacementDirector.PlacementHintKey, target);
            this.MigrateOnIdle();
        }
        return true;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        ServiceProvider.GetService<LocalJobs>()?.Remove(JobId);
        return Task.CompletedTask;
    }
}
