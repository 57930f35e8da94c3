namespace Orleans.Rft.Grains.Services;

/// <summary>Splits the rows of a merged batch so that each generate call's KV cache fits a token budget.</summary>
public static class BatchPlanner
{
    /// <summary>
    /// Row indices grouped into sub-batches whose cache, rows × (longest prompt + max_tokens) slots,
    /// stays within <paramref name="maxTokens"/> (a single row over the budget runs alone). Rows are
    /// taken shortest first so that little of each cache is padding; every row keeps its own seed, so
    /// the grouping never changes what a row samples.
    /// </summary>
    public static List<int[]> Split(IReadOnlyList<int> promptLengths, int maxNewTokens, long maxTokens)
    {
        var order = Enumerable.Range(0, promptLengths.Count).OrderBy(i => promptLengths[i]).ThenBy(i => i).ToList();
        var groups = new List<int[]>();
        var current = new List<int>();
        foreach (var i in order)
        {
            long longest = Math.Max(current.Count == 0 ? 0 : promptLengths[current[^1]], promptLengths[i]); // sorted: the new row is the longest
            if (current.Count > 0 && (current.Count + 1L) * (longest + maxNewTokens) > maxTokens)
            {
                groups.Add(current.ToArray());
                current = new();
            }
            current.Add(i);
        }
        if (current.Count > 0) groups.Add(current.ToArray());
        return groups;
    }
}
