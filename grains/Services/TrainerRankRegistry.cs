using System.Collections.Concurrent;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Grains.Services;

/// <summary>
/// The trainer ranks initialised on this silo, by key. A job has one live generation of ranks; when a
/// rank of a new generation initialises here, ranks of the same job with another generation on this
/// silo are abandoned (their job rebuilt its cluster, perhaps from another silo after losing its own)
/// and are told to release their device memory before the new model loads.
/// Keys are <c>{jobId}|{generation}-r{rank}|{silo}|{device}</c> (<see cref="Jobs.StepCluster"/>).
/// </summary>
public sealed class TrainerRankRegistry
{
    static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(30);
    readonly ConcurrentDictionary<string, (string JobId, string Generation)> live = new();

    public static string Generation(string key, string jobId)
    {
        var segment = key[(jobId.Length + 1)..].Split('|')[0];
        var at = segment.LastIndexOf("-r", StringComparison.Ordinal);
        return at < 0 ? segment : segment[..at];
    }

    public async Task Register(string key, string jobId, IGrainFactory grains)
    {
        var generation = Generation(key, jobId);
        live[key] = (jobId, generation);
        var abandoned = live.Where(r => r.Value.JobId == jobId && r.Value.Generation != generation).Select(r => r.Key).ToList();
        foreach (var old in abandoned)
        {
            live.TryRemove(old, out _);
            try { await grains.GetGrain<ITrainerGrain>(old).Release().WaitAsync(ReleaseTimeout); }
            catch (Exception) { } // best effort: its keep-alive lease ends it anyway
        }
    }

    public void Unregister(string key) => live.TryRemove(key, out _);

    public IReadOnlyCollection<string> Keys => live.Keys.ToList();
}
