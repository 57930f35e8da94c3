using Orleans.Concurrency;
namespace Orleans.Rft.GrainInterfaces;

/// <summary>
/// One RFT job (key: job id). Owns the job's small durable state and drives the training loop with a
/// grain timer (steps back to back within a tick) plus a reminder that restarts the timer after a silo loss.
/// </summary>
public interface IJobGrain : IGrainWithStringKey
{
    /// <summary>Starts the job; submitting the same spec again is a no-op, a different one is refused.</summary>
    Task<JobSnapshot> Submit(JobSpec spec);

    [AlwaysInterleave] Task<JobSnapshot> GetSnapshot();

    /// <summary>Step metrics from <paramref name="fromStep"/> on (the most recent 1,000 at most).</summary>
    [AlwaysInterleave] Task<IReadOnlyList<StepMetrics>> GetHistory(int fromStep);

    /// <summary>
    /// Control calls record the request (durably, apart from the job state) and return at once; the
    /// step loop applies it at the next step boundary. The snapshot already shows a pause or resume.
    /// </summary>
    [AlwaysInterleave] Task<JobSnapshot> Cancel();
    [AlwaysInterleave] Task<JobSnapshot> Pause();
    [AlwaysInterleave] Task<JobSnapshot> Resume();

    /// <summary>Up to <paramref name="count"/> rollouts of one step (the latest when null) from <paramref name="offset"/>, within one message.</summary>
    [AlwaysInterleave] Task<RolloutPage> GetRollouts(int? step, int offset, int count);

    /// <summary>The adapter after <paramref name="step"/> (the final one when null).</summary>
    [AlwaysInterleave] Task<AdapterInfo> GetAdapter(int? step);

    [AlwaysInterleave] Task<byte[]> GetAdapterChunk(string artifactPath, long offset, int count);
}

/// <summary>Lists jobs (key 0): the console's <c>rft jobs</c>. Bounded: active jobs and the latest 1,000 ended ones.</summary>
public interface IJobRegistryGrain : IGrainWithIntegerKey
{
    Task Register(string jobId);
    /// <summary>Moves a job to the ended list (the oldest ended jobs drop off past the bound).</summary>
    Task Finished(string jobId);
    Task<IReadOnlyList<string>> List();
}
