using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs;
using Orleans.Runtime;

namespace Orleans.Rft.Grains;

/// <summary>
/// The list of job ids (key 0), persisted so that <c>rft jobs</c> survives restarts; bounded by
/// <see cref="JobRegistryState"/> (active jobs, and the latest 1,000 ended ones). The unbounded list
/// of earlier versions (state <c>jobs</c>) is moved in once, all as ended jobs (that list cannot tell
/// which still run), then cleared.
/// </summary>
public sealed class JobRegistryGrain(
    [PersistentState("job-registry", "rft")] IPersistentState<JobRegistryState> jobs,
    [PersistentState("jobs", "rft")] IPersistentState<List<string>> legacy) : Grain, IJobRegistryGrain
{
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (legacy.State is not { Count: > 0 } old) return;
        foreach (var id in old) { jobs.State.Register(id); jobs.State.MarkFinished(id); }
        await StateWrites.WriteOwnedAsync(jobs);
        await legacy.ClearStateAsync();
    }

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
