using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Sampling;

/// <summary>Picks the next token of every row from its logits; pure tensor math, no model.</summary>
public static class TokenSampler
{
    /// <summary>
    /// logits (B, V) float32 → (tokens (B), log-prob under the sampling distribution (B),
    /// log-prob under the policy (B)). The policy is softmax(logits / T) without top-k/top-p
    /// truncation — the distribution the trainer optimises (TRL and veRL divide the training logits by
    /// the sampling temperature too); greedy decoding (T = 0) reports softmax(logits).
    /// <paramref name="generators"/>: one per row (row b draws from generators[b] only, so its draw
    /// does not depend on the other rows), or null (unseeded).
    /// </summary>
    public static (Tensor Tokens, Tensor SampledLogProbs, Tensor PolicyLogProbs) Next(Tensor logits, SamplingOptions o, IReadOnlyList<Generator>? generators)
    {
        using var scope = NewDisposeScope();
        var raw = (o.Temperature is 0.0 or 1.0 ? logits : logits / o.Temperature).log_softmax(-1); // (B, V)
        Tensor tokens, sampled;
        if (o.Temperature == 0)
        {
            tokens = logits.argmax(-1);                                       // greedy: a point mass
            sampled = zeros(tokens.shape[0], ScalarType.Float32, logits.device);
        }
        else
        {
            var scaled = logits / o.Temperature;
            if (o.TopK > 0 && o.TopK < scaled.shape[1])
            {
                var kth = scaled.topk(o.TopK, dim: -1).values.narrow(1, o.TopK - 1, 1); // (B, 1)
                scaled = scaled.masked_fill(scaled.lt(kth), float.NegativeInfinity);
            }
            if (o.TopP < 1)
            {
                // Nucleus (Holtzman et al. 2019): keep the smallest prefix of the sorted distribution
                // whose mass reaches top_p; the most likely token always stays.
                var (sortedLogits, order) = scaled.sort(dim: -1, descending: true);
                var probs = sortedLogits.softmax(-1);
                var before = probs.cumsum(-1) - probs;                       // mass strictly before each token
                var drop = before.gt(o.TopP);
                sortedLogits = sortedLogits.masked_fill(drop, float.NegativeInfinity);
                scaled = full_like(scaled, float.NegativeInfinity).scatter(-1, order, sortedLogits);
            }
            var dist = scaled.log_softmax(-1);
            var p = dist.exp();
            tokens = generators is null
                ? multinomial(p, 1, replacement: false).squeeze(-1)
                : cat(Enumerable.Range(0, (int)p.shape[0]).Select(b => multinomial(p[b], 1, replacement: false, generator: generators[b])).ToList(), 0);
            sampled = dist.gather(-1, tokens.unsqueeze(-1)).squeeze(-1);
        }
        var policy = raw.gather(-1, tokens.unsqueeze(-1)).squeeze(-1);
        return (tokens.MoveToOuterDisposeScope(), sampled.MoveToOuterDisposeScope(), policy.MoveToOuterDisposeScope());
    }
}
