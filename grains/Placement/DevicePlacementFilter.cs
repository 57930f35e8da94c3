using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace Orleans.Rft.Grains.Placement;

/// <summary>
/// Placement filter for device grains: of the candidate silos, keep those whose silo metadata
/// (<see cref="DeviceMetadata"/>) lists the device named at the end of the grain key
/// (<c>…|{silo}|{device}</c>). A grain that owns CUDA state can then never activate on a silo that
/// lacks the GPU, whatever placement strategy picks among the survivors.
/// </summary>
public sealed class DevicePlacementFilter() : PlacementFilterStrategy(order: 0);

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class DevicePlacementFilterAttribute() : PlacementFilterAttribute(new DevicePlacementFilter());

public sealed class DevicePlacementFilterDirector(ISiloMetadataCache metadata) : IPlacementFilterDirector
{
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos)
    {
        var (_, device) = DeviceKeys.Parse(target.GrainIdentity.Key.ToString()!);
        return silos.Where(s => DeviceMetadata.Devices(metadata.GetSiloMetadata(s)).Contains(device));
    }
}
