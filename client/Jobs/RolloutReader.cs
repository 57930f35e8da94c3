using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Client.Jobs;

/// <summary>Reads a step's rollouts page by page (each page one message of at most <see cref="RolloutPage.MaxBytes"/>).</summary>
public static class RolloutReader
{
    public const int PageCount = 256;

    public static async Task<List<Rollout>> ReadAllAsync(IJobGrain job, int? step, CancellationToken cancellation = default)
    {
        var all = new List<Rollout>();
        int? at = step;
        while (true)
        {
            var page = await job.GetRollouts(at, all.Count, PageCount).WaitAsync(TimeSpan.FromSeconds(60), cancellation);
            at = page.Step; // the latest step is resolved once, so pages never mix two steps
            all.AddRange(page.Rollouts);
            if (page.Rollouts.Length == 0 || all.Count >= page.Total) return all;
        }
    }

    /// <summary>The same through <see cref="IRftCluster"/> (grains or HTTP, whose pages hold at most 100).</summary>
    public static async Task<List<Rollout>> ReadAllAsync(IRftCluster cluster, string id, int? step, CancellationToken cancellation = default)
    {
        var all = new List<Rollout>();
        int? at = step;
        while (true)
        {
            var page = await cluster.Rollouts(id, at, all.Count, PageCount, cancellation);
            at = page.Step;
            all.AddRange(page.Rollouts);
            if (page.Rollouts.Length == 0 || all.Count >= page.Total) return all;
        }
    }
}
