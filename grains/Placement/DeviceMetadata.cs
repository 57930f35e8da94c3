using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Orleans.Rft.Grains.Placement;

/// <summary>
/// How a silo advertises its devices to the cluster: silo metadata key <c>rft.devices</c>, a
/// comma-separated list of device names (<c>cpu</c>, <c>cuda:0,cuda:1</c>). Published once at start
/// (<c>UseSiloMetadata</c>) and read by the placement filter and by jobs choosing where ranks run.
/// </summary>
public static class DeviceMetadata
{
    public const string Key = "rft.devices";

    public static Dictionary<string, string> For(IEnumerable<string> devices) => new() { [Key] = string.Join(',', devices) };

    /// <summary>The devices a silo advertises; empty while its metadata has not reached this silo yet.</summary>
    public static IReadOnlyList<string> Devices(SiloMetadata metadata) =>
        metadata.Metadata.TryGetValue(Key, out var value)
            ? value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [];
}
