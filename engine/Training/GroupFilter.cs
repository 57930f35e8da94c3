namespace Orleans.Rft.Engine.Training;

/// <summary>
/// DAPO's dynamic-sampling filter (Yu et al. 2025, eq. 11 and §3.2): a group whose rewards are all
/// equal (every sample right, or every sample wrong) has zero group-relative advantage everywhere, so
/// it adds no policy gradient and only dilutes the token-mean denominator. Such groups are dropped
/// and the batch is topped up with further prompts. "Equal" is judged on the valid rewards the
/// advantages would use (shaped rewards included), with the same unbiased std as
/// <see cref="Advantages.MeanStd"/>: a group is kept iff that std is &gt; 0, i.e. it has at least two
/// valid rewards that differ.
/// </summary>
public static class GroupFilter
{
    public static bool HasSignal(IReadOnlyList<double?> rewards) =>
        Advantages.MeanStd(rewards.Where(r => r.HasValue).Select(r => r!.Value).ToArray()).Std > 0;

    /// <summary>Indices of the groups to keep, in order.</summary>
    public static int[] Kept(IReadOnlyList<IReadOnlyList<double?>> groups) =>
        Enumerable.Range(0, groups.Count).Where(g => HasSignal(groups[g])).ToArray();
}
