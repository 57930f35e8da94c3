namespace Orleans.Rft.Grains.Services;

/// <summary>
/// Limits of generation on a device. <see cref="MaxBatchTokens"/> bounds the KV cache of each served
/// base model's continuous-batching scheduler: rows × positions per slot (the longest padded prompt +
/// max_tokens of the rows it holds); a sequence that does not fit waits until rows leave (Qwen2.5-0.5B
/// in bfloat16 takes 12 KiB per position: 2¹⁹ positions ≈ 6 GiB). <see cref="MaxBatchRows"/> bounds
/// the rows decoded together. <see cref="PageBytes"/> bounds one answer message (see
/// <see cref="GenerateResultPages"/>).
/// </summary>
public sealed record RolloutWorkerOptions(long MaxBatchTokens = RolloutWorkerOptions.DefaultMaxBatchTokens, long PageBytes = GenerateResultPages.DefaultPageBytes, int MaxBatchRows = RolloutWorkerOptions.DefaultMaxBatchRows)
{
    public const long DefaultMaxBatchTokens = 1 << 19;
    public const int DefaultMaxBatchRows = 256;
}
