using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Silo.Http;

/// <summary>The cluster's deployed adapters (<c>rft deploy</c>), as the endpoint sees them.</summary>
public interface IDeployedModels
{
    Task<IReadOnlyList<ModelDeployment>> ListAsync(CancellationToken cancellation);
}

/// <summary>
/// <see cref="IModelDeploymentsGrain"/> (key 0), read at most every <see cref="MaxAge"/>: every request
/// resolves its model, and one grain call per request would make that grain the cluster's bottleneck.
/// A deploy reaches every silo within that time. When the grain cannot be reached the last list read
/// is served (and the failure logged), so base models keep answering.
/// </summary>
public sealed class GrainDeployedModels(IGrainFactory grains, Microsoft.Extensions.Logging.ILogger<GrainDeployedModels> logger) : IDeployedModels
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(3);
    static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    readonly SemaphoreSlim refresh = new(1, 1);
    IReadOnlyList<ModelDeployment> last = [];
    DateTime readAt = DateTime.MinValue;

    public async Task<IReadOnlyList<ModelDeployment>> ListAsync(CancellationToken cancellation)
    {
        if (DateTime.UtcNow - readAt < MaxAge) return last;
        await refresh.WaitAsync(cancellation);
        try
        {
            if (DateTime.UtcNow - readAt < MaxAge) return last;
            try { last = await grains.GetGrain<IModelDeploymentsGrain>(0).List().WaitAsync(CallTimeout, cancellation); }
            catch (Exception e) when (e is not OperationCanceledException || !cancellation.IsCancellationRequested)
            {
                logger.LogDeploymentsUnavailable(e.GetType().Name + ": " + Secrets.Redact(e.Message), last.Count);
            }
            readAt = DateTime.UtcNow;
            return last;
        }
        finally { refresh.Release(); }
    }
}
