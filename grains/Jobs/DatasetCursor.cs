namespace Orleans.Rft.Grains.Jobs;

/// <summary>
/// Which rows a step takes: each epoch is a permutation of the dataset seeded by (seed, epoch), so
/// the order is reproduced after a restart from just (epoch, cursor) — no RNG state to save.
/// </summary>
public static class DatasetCursor
{
    public static int[] Permutation(int rows, long seed, int epoch)
    {
        var order = Enumerable.Range(0, rows).ToArray();
        // Not HashCode.Combine: it is randomised per process, and a resumed job must see the same order.
        new Random(unchecked((int)(seed * 1_000_003 + epoch * 7_919 + 0x5eed))).Shuffle(order);
        return order;
    }

    /// <summary>The next <paramref name="count"/> row indices from (epoch, cursor), wrapping into the next epoch.</summary>
    public static (int[] Rows, int Epoch, int Cursor) Take(int rows, int count, long seed, int epoch, int cursor)
    {
        var taken = new List<int>();
        var order = Permutation(rows, seed, epoch);
        while (taken.Count < count)
        {
            if (cursor >= rows) { epoch++; cursor = 0; order = Permutation(rows, seed, epoch); }
            taken.Add(order[cursor++]);
        }
        return (taken.ToArray(), epoch, cursor);
    }

    public static int TotalSteps(int rows, int batchPrompts, int epochs, int? maxSteps) =>
        maxSteps ?? Math.Max(1, epochs * (int)Math.Ceiling(rows / (double)batchPrompts));
}
