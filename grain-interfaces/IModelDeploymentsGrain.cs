namespace Orleans.Rft.GrainInterfaces;

/// <summary>A trained adapter served under a name: <c>rft deploy JOB --name NAME</c>.</summary>
[GenerateSerializer, Immutable, Alias("rft.ModelDeployment")]
public sealed record ModelDeployment(
    [property: Id(0)] string Name,
    [property: Id(1)] string JobId,
    [property: Id(2)] int Step,
    [property: Id(3)] int Version,
    [property: Id(4)] string BaseModel,
    [property: Id(5)] string AdapterPath,
    [property: Id(6)] DateTimeOffset DeployedAt,
    [property: Id(7)] string? BaseModelName = null)
{
    /// <summary>
    /// The base as users named it (the adapter's <c>base_model_name_or_path</c>, e.g. <c>base</c>), for listings;
    /// <see cref="BaseModel"/> is where the silos load it from (often an <c>artifact:</c> reference).
    /// </summary>
    public string BaseModelDisplayName => BaseModelName ?? BaseModel;
}

/// <summary>
/// The cluster's deployed adapters by name (key 0). Every silo's endpoint resolves a request's
/// <c>model</c> against this list.
/// </summary>
public interface IModelDeploymentsGrain : IGrainWithIntegerKey
{
    /// <summary>The job's adapter (final, or after <paramref name="step"/>) becomes model <paramref name="name"/>; deploying a name again replaces it.</summary>
    Task<ModelDeployment> Deploy(string name, string jobId, int? step);
    /// <summary>False when no such name was deployed.</summary>
    Task<bool> Undeploy(string name);
    [Orleans.Concurrency.AlwaysInterleave] Task<IReadOnlyList<ModelDeployment>> List();
}
