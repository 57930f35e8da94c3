using System.Collections.Concurrent;

namespace Orleans.Rft.Grains.Jobs;

/// <summary>
/// The job grains active on this silo (a DI singleton the job grain adds itself to on activation and
/// removes itself from on deactivation), so a draining silo knows which jobs it must move and can
/// wait until they have left.
/// </summary>
public sealed class LocalJobs
{
    readonly ConcurrentDictionary<string, byte> active = new();
    public void Add(string jobId) => active[jobId] = 0;
    public void Remove(string jobId) => active.TryRemove(jobId, out _);
    public IReadOnlyCollection<string> Ids => active.Keys.ToList();
}
