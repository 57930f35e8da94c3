namespace Orleans.Rft.Engine.Sampling;

/// <summary>
/// Sampling settings with OpenAI semantics: <c>Temperature = 0</c> is greedy; <c>TopK = 0</c> and
/// <c>TopP = 1</c> disable truncation. Stop strings end a sequence (they are cut from the text, the
/// tokens that produced them are kept); stop token ids are added to the model's own.
/// Every row samples from its own generator: row r is seeded with <c>RowSeeds[r]</c> when given
/// (a batch merged from several requests passes each request's own row seeds), otherwise with
/// <see cref="RowSeed"/>(<c>Seed</c>, r); with neither, draws are not reproducible.
/// <c>LogProbs</c> = k (0–20) also reports each token's raw log-prob and the k most likely
/// alternatives under softmax(logits) (OpenAI's <c>logprobs</c> / <c>top_logprobs</c>); null reports none.
/// </summary>
public sealed record SamplingOptions(
    double Temperature = 1.0,
    double TopP = 1.0,
    int TopK = 0,
    int MaxTokens = 256,
    IReadOnlyList<string>? Stop = null,
    IReadOnlyList<int>? StopTokenIds = null,
    long? Seed = null,
    bool IgnoreEos = false,
    IReadOnlyList<long>? RowSeeds = null,
    int? LogProbs = null)
{
    /// <summary>
    /// The seed of row <paramref name="row"/>'s own generator: SplitMix64 (Steele et al. 2014) of the
    /// request seed and the row index, so a row's draws depend on (seed, row) only — never on which
    /// other rows share its batch.
    /// </summary>
    public static long RowSeed(long seed, int row)
    {
        ulong z = unchecked((ulong)seed + 0x9E3779B97F4A7C15UL * (ulong)(row + 1));
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (long)((z ^ (z >> 31)) >> 1); // non-negative: torch generators take a ulong seed
    }

    public void Validate()
    {
        if (Temperature < 0 || double.IsNaN(Temperature)) throw new ArgumentException($"temperature must be ≥ 0 (got {Temperature}).");
        if (TopP is <= 0 or > 1) throw new ArgumentException($"top_p must be in (0, 1] (got {TopP}).");
        if (TopK < 0) throw new ArgumentException($"top_k must be ≥ 0 (got {TopK}).");
        if (MaxTokens < 1) throw new ArgumentException($"max_tokens must be ≥ 1 (got {MaxTokens}).");
        if (LogProbs is < 0 or > 20) throw new ArgumentException($"top_logprobs must be in [0, 20] (got {LogProbs}).");
    }
}

/// <summary>Why a sequence ended: a stop token or string, or the token limit.</summary>
public static class FinishReason
{
    public const string Stop = "stop";
    public const string Length = "length";
}

/// <summary>
/// One generated completion. <see cref="SampledLogProbs"/> are under the distribution actually
/// sampled from (temperature, top-k, top-p applied; 0 for greedy picks); <see cref="PolicyLogProbs"/>
/// are under the tempered policy softmax(logits / T) without truncation (T = 1 for greedy), which is
/// the policy the trainer optimises and its importance ratio compares against. <see cref="RawLogProbs"/>
/// and <see cref="TopLogProbs"/> (per token, under softmax(logits)) are there when
/// <see cref="SamplingOptions.LogProbs"/> asked for them.
/// </summary>
public sealed record GeneratedSequence(int[] TokenIds, float[] SampledLogProbs, float[] PolicyLogProbs, string FinishReason, string Text,
    float[]? RawLogProbs = null, IReadOnlyList<TokenLogProb>[]? TopLogProbs = null);
