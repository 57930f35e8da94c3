using Orleans.Rft.GrainInterfaces;
using Orleans.Runtime;

namespace Orleans.Rft.Grains;

/// <summary>The list of job ids (key 0), persisted so that <c>rft jobs</c> survives restarts.</summary>
public sealed class JobRegistryGrain([PersistentState("jobs", "rft")] IPersistentState<List<string>> jobs) : Grain, IJobRegistryGrain
{
    public async Task Register(string jobId)
    {
        if (jobs.State.Contains(jobId)) return;
        jobs.State.Add(jobId);
        await jobs.WriteStateAsync();
    }

    public Task<IReadOnlyList<string>> List() => Task.FromResult<IReadOnlyList<string>>(jobs.State.ToList());
}
