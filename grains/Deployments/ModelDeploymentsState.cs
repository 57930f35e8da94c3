using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Grains.Deployments;

/// <summary>
/// The deployments by name. Bounded (<see cref="MaxDeployments"/>) so the grain state stays well under
/// an Azure Table entity's ~960 KiB: a deployment is a few hundred bytes.
/// </summary>
[GenerateSerializer, Alias("rft.ModelDeploymentsState")]
public sealed class ModelDeploymentsState
{
    public const int MaxDeployments = 500;

    [Id(0)] public Dictionary<string, ModelDeployment> ByName { get; set; } = new(StringComparer.Ordinal);
}
