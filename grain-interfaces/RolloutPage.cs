using System.Text;

namespace Orleans.Rft.GrainInterfaces;

/// <summary>
/// Rollouts [<see cref="Offset"/>, +Rollouts.Length) of a step's <see cref="Total"/>: a step's log can
/// be tens of MB, so it crosses in pages of at most <see cref="MaxBytes"/> (an upper bound under
/// Orleans' codec: ≤ 6 bytes per int, 5 per float, UTF-8 text, 64 per metric, 256 of tags).
/// </summary>
[GenerateSerializer, Immutable, Alias("rft.RolloutPage")]
public sealed record RolloutPage(
    [property: Id(0)] int Step,
    [property: Id(1)] int Offset,
    [property: Id(2)] Rollout[] Rollouts,
    [property: Id(3)] int Total)
{
    public const int MaxBytes = MessageLimits.MaxChunkBytes - (64 << 10);

    public static long Bytes(Rollout r) =>
        6L * (r.PromptIds.Length + r.CompletionIds.Length) + 5L * r.LogProbs.Length + Encoding.UTF8.GetByteCount(r.Completion) +
        Encoding.UTF8.GetByteCount(r.Reason) + Encoding.UTF8.GetByteCount(r.FinishReason) + r.Metrics.Sum(m => 64L + Encoding.UTF8.GetByteCount(m.Key)) + 256;

    /// <summary>Up to <paramref name="count"/> rollouts from <paramref name="offset"/>, fewer if they would pass <see cref="MaxBytes"/> (never none while some are left).</summary>
    public static RolloutPage Take(int step, IReadOnlyList<Rollout> all, int offset, int count, long maxBytes = MaxBytes)
    {
        if (offset < 0 || count < 1) throw new ArgumentException($"offset must be ≥ 0 and count ≥ 1 (got {offset}, {count}).");
        var page = new List<Rollout>();
        long size = 0;
        for (int i = offset; i < all.Count && page.Count < count; i++)
        {
            var b = Bytes(all[i]);
            if (page.Count > 0 && size + b > maxBytes) break;
            page.Add(all[i]);
            size += b;
        }
        return new RolloutPage(step, offset, page.ToArray(), all.Count);
    }
}
