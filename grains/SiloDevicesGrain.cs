using Orleans.Placement;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Placement;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Grains;

/// <summary>Answers which devices its silo serves; placed on the silo in its key (<c>{silo}|devices</c>).</summary>
[SiloDevicePlacement, Immovable] // they own device state: never rebalanced to another silo
public sealed class SiloDevicesGrain(DeviceRegistry devices) : Grain, ISiloDevicesGrain
{
    public Task<string[]> GetDevices() => Task.FromResult(devices.Names.ToArray());
}
