using Microsoft.Extensions.DependencyInjection;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Placement;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Orleans.Rft.Cluster.Tests;

[Collection(ClusterCollection.Name)]
public sealed class DevicePlacementTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Every_silo_sees_the_devices_every_other_silo_advertises_in_its_metadata()
    {
        var silos = fixture.Cluster.Silos.Select(s => s.SiloAddress).ToList();
        foreach (var host in fixture.Cluster.Silos)
        {
            var cache = host.ServiceProvider.GetRequiredService<ISiloMetadataCache>();
            foreach (var silo in silos)
                await Until(() => DeviceMetadata.Devices(cache.GetSiloMetadata(silo)).SequenceEqual(["cpu"]), $"{host.SiloAddress} to see the devices of {silo}");
        }
    }

    [Fact]
    public async Task A_device_grain_for_a_device_its_silo_does_not_advertise_is_refused_by_the_filter_before_it_activates()
    {
        var silo = fixture.Cluster.Silos[0].SiloAddress.ToParsableString();
        var worker = fixture.Cluster.Client.GetGrain<IRolloutWorkerGrain>(DeviceKeys.For(silo, "cuda:7"));
        var request = new GenerateRequest(fixture.ModelDir, null, 0, [], 1, 1.0, 1.0, 0, 1, [], 1);
        var error = await Assert.ThrowsAnyAsync<Exception>(() => worker.Generate(request));
        // Placement found no silo left after the device filter (both silos exist and serve cpu);
        // an activation would have failed later with DeviceRegistry's "this silo has no device".
        Assert.Contains("No active nodes are compatible", error.Message);
        Assert.DoesNotContain("has no device", error.Message);
    }

    [Fact]
    public async Task A_device_grain_activates_on_the_silo_its_key_names()
    {
        foreach (var host in fixture.Cluster.Silos)
        {
            var key = DeviceKeys.For(host.SiloAddress.ToParsableString(), "cpu");
            var worker = fixture.Cluster.Client.GetGrain<IRolloutWorkerGrain>(key);
            await worker.Generate(new GenerateRequest(fixture.ModelDir, null, 0, [], 1, 1.0, 1.0, 0, 1, [], 1));
            var hosts = await fixture.Cluster.Client.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
            Assert.Contains(hosts, s => s.GrainId.Key.ToString() == key && s.SiloAddress.Equals(host.SiloAddress));
        }
    }

    static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited 20 s for {what}");
            await Task.Delay(100);
        }
    }
}
