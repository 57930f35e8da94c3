using System.Text.Json.Nodes;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Silo.Http;

namespace Orleans.Rft.Client.Jobs;

/// <summary>
/// "The cluster" as the console's commands use it, whichever way it is reached: as an Orleans client
/// through a gateway (<see cref="GrainCluster"/>, inside the cluster's network) or over the silos' HTTP
/// endpoint (<see cref="Http.HttpCluster"/>, <c>--url</c>: from a laptop outside it). Both answer with the
/// same records, so a command prints the same thing either way. An unknown job or a refused request is an
/// <see cref="ArgumentException"/> (the user's to fix: exit 2); an unreachable cluster a
/// <see cref="ClusterUnavailableException"/> (exit 1). Every call has a deadline.
/// </summary>
public interface IRftCluster : IAsyncDisposable
{
    /// <summary>
    /// Submits <paramref name="spec"/> (the parsed job file; <paramref name="document"/> the file itself as JSON).
    /// With <paramref name="upload"/>, local inputs go to the cluster's artifact store first and the job names them by reference.
    /// </summary>
    Task<JobSnapshot> Submit(JobSpec spec, JsonObject document, bool upload, Action<string>? progress, CancellationToken cancellation);

    Task<IReadOnlyList<JobSnapshot>> Jobs(CancellationToken cancellation);

    /// <summary>The job's state; an <see cref="ArgumentException"/> for an id the cluster does not know.</summary>
    Task<JobSnapshot> Get(string id, CancellationToken cancellation);

    Task<IReadOnlyList<StepMetrics>> History(string id, int fromStep, CancellationToken cancellation);

    /// <summary><c>cancel</c>, <c>pause</c> or <c>resume</c>; refused (<see cref="ArgumentException"/>) for a job that has ended.</summary>
    Task<JobSnapshot> Control(string id, string verb, CancellationToken cancellation);

    /// <summary>Up to <paramref name="count"/> rollouts of a step (the latest when null) from <paramref name="offset"/>.</summary>
    Task<RolloutPage> Rollouts(string id, int? step, int offset, int count, CancellationToken cancellation);

    /// <summary>The job live: its snapshot whenever it changes and the steps not seen yet, until it ends (the last item's snapshot is final).</summary>
    IAsyncEnumerable<JobProgress> Follow(string id, CancellationToken cancellation);

    /// <summary>Writes the PEFT adapter (final, or after <paramref name="step"/>) into <paramref name="outDirectory"/>.</summary>
    Task<ExportedAdapter> Export(string id, int? step, string outDirectory, CancellationToken cancellation);

    Task<Deployment> Deploy(string name, string jobId, int? step, CancellationToken cancellation);

    /// <summary>False when no deployment has that name.</summary>
    Task<bool> Undeploy(string name, CancellationToken cancellation);

    Task<IReadOnlyList<Deployment>> Deployments(CancellationToken cancellation);
}

/// <summary>One update of a followed job: its state now and the steps that finished since the last update.</summary>
public sealed record JobProgress(JobSnapshot Snapshot, IReadOnlyList<StepMetrics> NewSteps);

/// <summary>An adapter written to disk: which step it is, and the size of its weights.</summary>
public sealed record ExportedAdapter(int Step, long WeightsBytes);
