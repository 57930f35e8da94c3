using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Silo.Http;

/// <summary>The cluster's deployed adapters (<c>rft deploy</c>), as the endpoint sees them.</summary>
public interface IDeployedModels
{
    Task<IReadOnlyList<ModelDeployment>> ListAsync(CancellationToken cancellation);
}
