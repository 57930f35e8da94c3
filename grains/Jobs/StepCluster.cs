using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Placement;
using Orleans.Runtime;

namespace Orleans.Rft.Grains.Jobs;

/// <summary>
/// The grains one job talks to: a rollout worker per device per silo and N trainer ranks, each rank
/// pinned to a (silo, device) round-robin over what the silos report.
/// </summary>
public sealed record StepCluster(IReadOnlyList<IRolloutWorkerGrain> RolloutWorkers, IReadOnlyList<ITrainerGrain> Trainers, IReadOnlyList<string> TrainerKeys)
{
    public static async Task<StepCluster> Discover(IGrainFactory grains, string jobId, int ranks)
    {
        var management = grains.GetGrain<IManagementGrain>(0);
        var silos = (await management.GetHosts(onlyActive: true)).Keys.Select(s => s.ToParsableString()).Order().ToList();
        var devices = new List<(string Silo, string Device)>();
        foreach (var silo in silos)
            foreach (var device in await grains.GetGrain<ISiloDevicesGrain>(DeviceKeys.For(silo, "devices")).GetDevices().WaitAsync(TimeSpan.FromSeconds(30)))
                devices.Add((silo, device));
        if (devices.Count == 0) throw new InvalidOperationException("no silo reports a device.");
        var workers = devices.Select(d => grains.GetGrain<IRolloutWorkerGrain>(DeviceKeys.For(d.Silo, d.Device))).ToList();
        // A fresh generation per (re)start so a resumed job never reuses a rank that holds stale state.
        var generation = Guid.NewGuid().ToString("N")[..8];
        var keys = Enumerable.Range(0, ranks).Select(r => $"{jobId}|{generation}-r{r}|{DeviceKeys.For(devices[r % devices.Count].Silo, devices[r % devices.Count].Device)}").ToList();
        return new StepCluster(workers, keys.Select(k => grains.GetGrain<ITrainerGrain>(k)).ToList(), keys);
    }
}
