namespace Orleans.Rft.Engine.Sampling;

/// <summary>
/// A counter-based uniform generator: the draw of token <c>index</c> of a row with seed <c>seed</c> is
/// SplitMix64 (Steele et al. 2014) of the pair, so it depends on nothing else — not on the other rows
/// of the batch, the order rows join, or any generator's state. 53 bits → a double in [0, 1).
/// </summary>
public static class CounterUniform
{
    public static double Draw(long seed, int index)
    {
        ulong z = unchecked((ulong)seed ^ (0xD1B54A32D192ED03UL * (ulong)(index + 1)));
        z = unchecked(z + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53));
    }

    /// <summary>A fresh seed for a row that asked for none.</summary>
    public static long RandomSeed() => Random.Shared.NextInt64(long.MaxValue);
}
