using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Placement;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Orleans.Rft.Grains.Jobs;

/// <summary>
/// The grains one job talks to: a rollout worker per device per silo and N trainer ranks, each rank
/// pinned to a (silo, device) round-robin over the devices the silos advertise in their metadata.
/// </summary>
public sealed record StepCluster(IReadOnlyList<IRolloutWorkerGrain> RolloutWorkers, IReadOnlyList<ITrainerGrain> Trainers, IReadOnlyList<string> TrainerKeys)
{
    /// <summary>Rollout workers looked up per rollout call (silos that join or leave mid-job); null: the fixed <see cref="RolloutWorkers"/>.</summary>
    public ElasticWorkers? Elastic { get; init; }

    /// <summary>How long a silo that just joined may take to have its metadata reach this silo.</summary>
    static readonly TimeSpan MetadataWait = TimeSpan.FromSeconds(30);

    public static async Task<StepCluster> Discover(IGrainFactory grains, ISiloMetadataCache metadata, string jobId, int ranks, ElasticWorkers? elastic = null)
    {
        // Ranks never go to a silo that said it is draining (it is about to leave).
        var devices = (await AdvertisedDevices(grains, metadata)).Where(d => elastic?.IsDraining(d.Silo) != true).ToList();
        if (devices.Count == 0) throw new InvalidOperationException("every silo that advertises a device is draining; add a silo for the job's trainer ranks.");
        var workers = devices.Select(d => grains.GetGrain<IRolloutWorkerGrain>(DeviceKeys.For(d.Silo, d.Device))).ToList();
        // A fresh generation per (re)start so a resumed job never reuses a rank that holds stale state.
        var generation = Guid.NewGuid().ToString("N")[..8];
        var keys = Enumerable.Range(0, ranks).Select(r => $"{jobId}|{generation}-r{r}|{DeviceKeys.For(devices[r % devices.Count].Silo, devices[r % devices.Count].Device)}").ToList();
        return new StepCluster(workers, keys.Select(k => grains.GetGrain<ITrainerGrain>(k)).ToList(), keys) { Elastic = elastic };
    }

    static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The ranks of a generation an earlier activation of the job started (their keys from <see cref="JobState.TrainerKeys"/>), to release them.</summary>
    public static StepCluster Abandoned(IGrainFactory grains, IReadOnlyList<string> keys) =>
        new([], keys.Select(k => grains.GetGrain<ITrainerGrain>(k)).ToList(), keys);

    /// <summary>
    /// Tells every rank to free its device memory and deactivate (the job abandons this generation).
    /// Best effort: a rank on a lost silo is gone already, and one that does not answer is freed by
    /// the next generation's rank on its silo (<see cref="Services.TrainerRankRegistry"/>) or its lease.
    /// </summary>
    public async Task Release()
    {
        await Task.WhenAll(Trainers.Select(async t =>
        {
            try { await t.Release().WaitAsync(ReleaseTimeout); }
            catch (Exception) { }
        }));
    }

    /// <summary>(silo, device) for every device of every active silo, in a stable order.</summary>
    static async Task<List<(string Silo, string Device)>> AdvertisedDevices(IGrainFactory grains, ISiloMetadataCache metadata)
    {
        var deadline = DateTime.UtcNow + MetadataWait;
        while (true)
        {
            var silos = (await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(TimeSpan.FromSeconds(30))).Keys
                .OrderBy(s => s.ToParsableString(), StringComparer.Ordinal).ToList();
            var advertised = silos.Select(s => (Silo: s.ToParsableString(), Devices: DeviceMetadata.Devices(metadata.GetSiloMetadata(s)))).ToList();
            if (advertised.All(a => a.Devices.Count > 0) || DateTime.UtcNow > deadline)
            {
                var devices = advertised.SelectMany(a => a.Devices.Select(d => (a.Silo, d))).ToList();
                if (devices.Count == 0) throw new InvalidOperationException($"no silo advertises a device (silo metadata {DeviceMetadata.Key}); is every silo built with AddRft?");
                return devices;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }
    }
}
