using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace Orleans.Rft.Grains.Placement;

/// <summary>
/// Places a device-owning grain on the silo named in its key: <c>[…|]{silo}|{device}</c>. The job
/// grain builds those keys from the devices silos advertise, so trainer ranks and rollout workers
/// spread over the cluster as the job planned. It chooses among the silos that survived
/// <see cref="DevicePlacementFilter"/>: if the named silo left the cluster or does not serve the
/// device, the activation fails fast instead of silently running somewhere without it.
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("rft.SiloDevicePlacement")]
public sealed class SiloDevicePlacement : PlacementStrategy
{
    public static readonly SiloDevicePlacement Instance = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloDevicePlacementAttribute() : PlacementAttribute(SiloDevicePlacement.Instance);

public sealed class SiloDevicePlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString()!;
        var (silo, device) = DeviceKeys.Parse(key);
        var compatible = context.GetCompatibleSilos(target);
        var match = compatible.FirstOrDefault(s => s.ToParsableString() == silo)
            ?? throw new OrleansException($"grain '{key}' must run on silo {silo} with device {device}, but that silo has left the cluster or does not advertise the device (silo metadata {DeviceMetadata.Key}).");
        return Task.FromResult(match);
    }
}

/// <summary>
/// Builds and parses the <c>{silo}|{device}</c> tail of device-grain keys ('|' because silo
/// addresses contain ':' and '@').
/// </summary>
public static class DeviceKeys
{
    public static string For(string silo, string device) => $"{silo}|{device}";

    public static (string Silo, string Device) Parse(string key)
    {
        var parts = key.Split('|');
        if (parts.Length < 2) throw new ArgumentException($"device grain key '{key}' must end with {{silo}}|{{device}}.");
        return (parts[^2], parts[^1]);
    }
}
