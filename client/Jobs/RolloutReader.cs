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
}
