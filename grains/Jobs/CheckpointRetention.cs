namespace Orleans.Rft.Grains.Jobs;

/// <summary>Which checkpoints a job keeps: the last <c>checkpoint.keep_last</c>, plus the best one when <c>keep_best</c>.</summary>
public static class CheckpointRetention
{
    /// <summary>The checkpoints of <paramref name="all"/> (oldest first) that are no longer kept.</summary>
    public static List<CheckpointRef> Pruned(IReadOnlyList<CheckpointRef> all, int keepLast, string? bestAdapterPath)
    {
        var last = all.OrderBy(c => c.Step).TakeLast(Math.Max(1, keepLast)).ToHashSet();
        return all.Where(c => !last.Contains(c) && (bestAdapterPath is null || $"{c.Prefix}/adapter" != bestAdapterPath)).ToList();
    }
}
