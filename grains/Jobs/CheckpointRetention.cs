namespace Orleans.Rft.Grains.Jobs;

/// <summary>Which checkpoints a job keeps: the last <c>checkpoint.keep_last</c>, plus the best one when <c>keep_best</c>.</summary>
public static class CheckpointRetention
{
    /// <summary>The checkpoints of <paramref name="all"/> (oldest first) that are no longer kept.</summary>
    public static List<CheckpointRef> Pruned(IReadOnlyList<CheckpointRef> all, int keepLast, string? bestAdapterPath)
    {
        // The parser accepts keep_last ≥ 1, so 0 means a spec stored by the previous version, which had no
        // keep_last (the field comes back as 0, not as the record's default): it gets today's default.
        if (keepLast <= 0) keepLast = new GrainInterfaces.CheckpointSpec().KeepLast;
        var last = all.OrderBy(c => c.Step).TakeLast(keepLast).ToHashSet();
        return all.Where(c => !last.Contains(c) && (bestAdapterPath is null || $"{c.Prefix}/adapter" != bestAdapterPath)).ToList();
    }
}
