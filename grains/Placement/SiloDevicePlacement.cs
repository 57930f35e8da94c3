using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace Orleans.Rft.Grains.Placement;

/// <summary>
/// Places a device-owning grain on the silo named in its key: <c>[…|]{silo}|{device}</c>. The job grain builds those keys from the devices each silo reports, so
/// trainer and rollout grains land only where their device is; if that silo has left the cluster the
/// activation fails fast instead of silently running on a silo without the device.
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
        var (silo, _) = DeviceKeys.Parse(key);
        var compatible = context.GetCompatibleSilos(target);
        var match = compatible.FirstOrDefault(s => s.ToParsableString() == silo)
            ?? throw new OrleansException($"grain '{key}' must run on silo {silo}, which is not in the cluster.");
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
