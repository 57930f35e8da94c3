namespace Orleans.Rft.Grains.Jobs;

/// <summary>
/// How many of a step's prompts each rollout worker gets: in proportion to its weight (its measured
/// throughput, <see cref="WorkerThroughput"/>), by largest remainder so the counts add up exactly and
/// no worker is more than one prompt off its proportional share. Plain arithmetic, unit-tested.
/// </summary>
public static class WorkShares
{
    /// <summary>
    /// Throughputs within a factor of (1 + this) of the workers' mean count as the mean. Silos of one
    /// kind measure tens of percent apart from step to step (a busy neighbour, a garbage collection, the
    /// grain next door); following that noise would move prompts between them every step and change
    /// which prompts share a batch, and batched generation is only reproducible for the same batches, so
    /// a resumed run would no longer repeat the uninterrupted one. Really different silos (a GPU beside
    /// a CPU, a machine busy with something else) fall outside the band and get their proportional share.
    /// </summary>
    public const double EvenBand = 1.0;

    /// <summary>
    /// <paramref name="items"/> split over workers by <paramref name="weights"/> (≥ 0; all zero = even); the
    /// counts sum to <paramref name="items"/>, and with at least as many items as workers none gets zero.
    /// </summary>
    public static int[] Split(int items, IReadOnlyList<double> weights)
    {
        if (weights.Count == 0) throw new ArgumentException("no rollout worker to split the prompts over.", nameof(weights));
        if (items < 0) throw new ArgumentOutOfRangeException(nameof(items), items, "a negative number of prompts.");
        var w = weights.Select(x => double.IsFinite(x) && x > 0 ? x : 0).ToArray();
        double total = w.Sum();
        if (total <= 0) { w = Enumerable.Repeat(1.0, w.Length).ToArray(); total = w.Length; }
        var exact = w.Select(x => items * x / total).ToArray();
        var counts = exact.Select(x => (int)Math.Floor(x)).ToArray();
        int left = items - counts.Sum();
        // Ties go to the earlier worker (a stable order), so the split is a function of the weights alone.
        foreach (var i in Enumerable.Range(0, w.Length).OrderByDescending(i => exact[i] - counts[i]).ThenBy(i => i).Take(left)) counts[i]++;
        // Every worker gets at least one prompt when there are enough: a worker measured slow (a cold
        // start, a busy moment) that got none would never be measured again and never earn work back.
        // The prompt comes from the worker furthest above its exact share.
        if (items >= w.Length)
            for (int i = 0; i < w.Length; i++)
                if (counts[i] == 0)
                {
                    int donor = Enumerable.Range(0, w.Length).Where(j => counts[j] > 1).OrderByDescending(j => counts[j] - exact[j]).ThenBy(j => j).First();
                    (counts[donor], counts[i]) = (counts[donor] - 1, 1);
                }
        return counts;
    }

    /// <summary>
    /// Each worker's weight: its measured throughput, or the mean of the measured ones for a worker with
    /// no measurement yet (a silo that just joined starts at the mean); throughputs within
    /// a factor of 1 + <see cref="EvenBand"/> of the mean become the mean. No measurement at all: equal weights.
    /// </summary>
    public static double[] Weights(IReadOnlyList<string> workers, IReadOnlyDictionary<string, double> measured)
    {
        var known = workers.Where(w => measured.TryGetValue(w, out var t) && double.IsFinite(t) && t > 0).Select(w => measured[w]).ToList();
        if (known.Count == 0) return workers.Select(_ => 1.0).ToArray();
        double mean = known.Average();
        return workers.Select(w =>
        {
            if (!measured.TryGetValue(w, out var t) || !double.IsFinite(t) || t <= 0) return mean;
            return t <= mean * (1 + EvenBand) && t >= mean / (1 + EvenBand) ? mean : t;
        }).ToArray();
    }
}
