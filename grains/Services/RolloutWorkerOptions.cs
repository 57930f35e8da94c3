namespace Orleans.Rft.Grains.Services;

/// <summary>
/// Limits of one rollout worker. <see cref="MaxBatchTokens"/> bounds the KV cache of one
/// <c>Sampler.Generate</c> call: rows × (longest prompt + max_tokens) slots, since prompts are
/// left-padded to the longest (Qwen2.5-0.5B in bfloat16 takes 12 KiB per slot: 2¹⁹ slots ≈ 6 GiB).
/// <see cref="PageBytes"/> bounds one answer message (see <see cref="GenerateResultPages"/>).
/// </summary>
public sealed record RolloutWorkerOptions(long MaxBatchTokens = RolloutWorkerOptions.DefaultMaxBatchTokens, long PageBytes = GenerateResultPages.DefaultPageBytes)
{
    public const long DefaultMaxBatchTokens = 1 << 19;
}
