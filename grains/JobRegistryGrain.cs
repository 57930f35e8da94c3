using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs;
using Orleans.Runtime;

namespace Orleans.Rft.Grains;

/// <summary>
/// The list of job ids (key 0), persisted so that <c>rft jobs</c> survives restarts; bounded by
/// <see cref="JobRegistryState"/> (active jobs, and the latest 1,000 ended ones). State name
/// <c>job-registry</c>: the unbounded list of earlier versions (<c>jobs</c>) is not read.
/// </summary>
public sealed class JobRegistryGrain([PersistentState("job-registry", "rft")] IPersistentState<JobRegistryState> jobs) : Grain, IJobRegistryGrain
{
    public async Task Register(string jobId)
    {
        if (jobs.State.Register(jobId)) await StateWrites.WriteAsync(jobs, stored => { stored.Register(jobId); return stored; });
    }

    public async Task Finished(string jobId)
    {
        if (jobs.State.MarkFinished(jobId)) await StateWrites.WriteAsync(jobs, stored => { stored.MarkFinished(jobId); return stored; });
    }

    public Task<IReadOnlyList<string>> List() => Task.FromResult<IReadOnlyList<string>>(jobs.State.All());
}
