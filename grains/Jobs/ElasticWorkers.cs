using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Placement;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Orleans.Rft.Grains.Jobs;

/// <summary>A rollout worker of one device on one silo, as a step plans with it.</summary>
public sealed record WorkerSlot(string Silo, string Device)
{
    public string Key => DeviceKeys.For(Silo, Device);
}

/// <summary>
/// The rollout workers a job spreads generation over, looked up afresh for every rollout call (so each
/// step, its prefetched batches and its evaluation see the silos present then): every device of every
/// active silo whose metadata has arrived, less the silos that said they are draining. A silo that
/// joins mid-job takes work from the next call on, at the mean throughput until it has been measured;
/// one that left is no longer active and gets none (its in-flight requests are retried elsewhere by
/// <see cref="JobStepRunner.Rollouts"/>).
/// </summary>
public sealed class ElasticWorkers(IGrainFactory grains, ISiloMetadataCache metadata, Func<List<string>> draining)
{
    static readonly TimeSpan MembershipTimeout = TimeSpan.FromSeconds(30);

    public WorkerThroughput Throughput { get; } = new();

    /// <summary>Takes <paramref name="silo"/> (its parsable address) out of every later plan and rank placement.</summary>
    public void MarkDraining(string silo)
    {
        if (!draining().Contains(silo)) draining().Add(silo);
        // Bounded (it is kept in the job's state): the oldest drained silos are long gone.
        if (draining().Count > MaxDraining) draining().RemoveRange(0, draining().Count - MaxDraining);
    }

    /// <summary>Draining silos a job remembers at most.</summary>
    public const int MaxDraining = 32;

    public bool IsDraining(string silo) => draining().Contains(silo);

    /// <summary>An active silo other than <paramref name="self"/> that is not draining (where a job grain moves), or null.</summary>
    public async Task<SiloAddress?> OtherSilo(SiloAddress self) =>
        (await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(MembershipTimeout)).Keys
            .Where(s => !s.Equals(self) && !IsDraining(s.ToParsableString())).OrderBy(s => s.ToParsableString(), StringComparer.Ordinal).FirstOrDefault();

    /// <summary>How long a job that moved its ranks off a draining silo waits for that silo to be gone before placing new ones.</summary>
    public static readonly TimeSpan DrainedLeaveWait = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Waits (at most <see cref="DrainedLeaveWait"/>) until every draining silo is dead in the membership.
    /// New ranks are placed only then: ranks activated while a leaving silo still owned part of the grain
    /// directory were seen to come back as fresh, empty activations once it left (a rank lost one step
    /// after the move, and the job rolled back). The silo exits as soon as the old ranks are released.
    /// </summary>
    public async Task UntilDrainedLeft()
    {
        var deadline = DateTime.UtcNow + DrainedLeaveWait;
        while (draining().Count > 0)
        {
            var alive = (await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: false).WaitAsync(MembershipTimeout))
                .Where(h => h.Value != SiloStatus.Dead).Select(h => h.Key.ToParsableString()).ToHashSet();
            // A drained silo that is dead cannot come back (a restart is a new address): forget it. One still
            // shutting down is not active any more, but still hands off its part of the directory: wait for it.
            draining().RemoveAll(d => !alive.Contains(d));
            if (draining().Count == 0 || DateTime.UtcNow >= deadline) return;
            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }
    }

    /// <summary>The workers present now, in a stable order (silo address, then device).</summary>
    public async Task<IReadOnlyList<WorkerSlot>> Present()
    {
        var silos = (await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(MembershipTimeout)).Keys
            .Select(s => (Address: s, Name: s.ToParsableString())).OrderBy(s => s.Name, StringComparer.Ordinal).ToList();
        List<WorkerSlot> SlotsOf(IEnumerable<(SiloAddress Address, string Name)> of) =>
            of.SelectMany(s => DeviceMetadata.Devices(metadata.GetSiloMetadata(s.Address)).Select(d => new WorkerSlot(s.Name, d))).ToList();
        var slots = SlotsOf(silos.Where(s => !IsDraining(s.Name)));
        // Every silo present is leaving (a lone silo stopped, a whole cluster's stop): they serve until they have
        // stopped, so the step in progress ends on them and the drain checkpoints it. Without this the step
        // failed for want of a worker, and the job lost it (a rollback, and one of its failures spent).
        if (slots.Count == 0) slots = SlotsOf(silos);
        if (slots.Count == 0)
            throw new InvalidOperationException($"no active silo advertises a device (silo metadata {DeviceMetadata.Key}){(draining().Count == 0 ? "" : $"; draining: {string.Join(", ", draining())}")}; is every silo built with AddRft?");
        foreach (var gone in Throughput.Snapshot().Keys.Where(k => slots.All(s => s.Key != k))) Throughput.Forget(gone);
        return slots;
    }

    /// <summary>The present workers with the number of prompts each gets out of <paramref name="prompts"/>, by measured throughput.</summary>
    public async Task<IReadOnlyList<(WorkerSlot Worker, int Prompts)>> Plan(int prompts)
    {
        var slots = await Present();
        var counts = WorkShares.Split(prompts, WorkShares.Weights(slots.Select(s => s.Key).ToList(), Throughput.Snapshot()));
        return slots.Select((s, i) => (s, counts[i])).ToList();
    }

    public IRolloutWorkerGrain Grain(WorkerSlot slot) => grains.GetGrain<IRolloutWorkerGrain>(slot.Key);
}
