using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Sampling;

/// <summary>
/// What one row of a batch asks of the sampler at this step: its own temperature (0 = greedy), top-p,
/// top-k (0 = off), its seed and the index of the token being drawn (the counter of
/// <see cref="CounterUniform"/>), and how many raw alternatives to report (null = no raw log-probs).
/// </summary>
public readonly record struct RowDraw(double Temperature, double TopP, int TopK, long Seed, int TokenIndex, int? LogProbs = null);

/// <summary>A step's draws copied to the host: per row the id, the two log-probs, and the raw ones when asked.</summary>
public sealed record HostDraws(long[] Ids, float[] Sampled, float[] Policy, float[]? Raw, TokenLogProb[][]? Top);

/// <summary>Picks the next token of every row from its logits; pure tensor math, no model.</summary>
public static class TokenSampler
{
    /// <summary>
    /// logits (B, V) float32 → tokens (B) int64 (left on the device, the next step's input) and one
    /// packed float64 tensor (B, 3 [+ 1 + 2k]) = [id, log-prob under the sampling distribution,
    /// log-prob under the policy, (raw log-prob, k top ids, k top raw log-probs)], to be copied to the
    /// host in one transfer (<see cref="Read"/>).
    /// The policy is softmax(logits / T) without top-k/top-p truncation — the distribution the trainer
    /// optimises (TRL and veRL divide the training logits by the sampling temperature too); a greedy
    /// row (T = 0) takes the argmax, reports 0 as its sampled log-prob and softmax(logits) as its
    /// policy. Each row's parameters are (B, 1) tensors built once per step. A sampled row draws by
    /// inverse CDF: u = <see cref="CounterUniform.Draw"/>(seed, token index) from the host, the token is
    /// the first whose cumulative probability (float64, vocabulary order) exceeds u — so a row's draw
    /// depends only on its own logits, seed and position, never on its batch companions. The raw
    /// log-prob and the top-k alternatives are under softmax(logits) (T = 1), computed only when a
    /// row asks.
    /// </summary>
    public static (Tensor Tokens, Tensor Packed) Next(Tensor logits, IReadOnlyList<RowDraw> rows)
    {
        using var scope = NewDisposeScope();
        int b = rows.Count;
        long vocab = logits.shape[1];
        var device = logits.device;
        if (logits.shape[0] != b) throw new ArgumentException($"logits have {logits.shape[0]} rows for {b} row settings.");
        bool anySampled = false, anyGreedy = false, anyTruncated = false, allUntempered = true;
        int topLogProbs = -1;
        foreach (var r in rows)
        {
            if (r.Temperature > 0) anySampled = true; else anyGreedy = true;
            if (r.Temperature > 0 && ((r.TopK > 0 && r.TopK < vocab) || r.TopP < 1)) anyTruncated = true;
            if (r.Temperature is not (0.0 or 1.0)) allUntempered = false;
            if (r.LogProbs is int k) topLogProbs = Math.Max(topLogProbs, k);
        }

        // The tempered logits; a greedy row divides by 1 (its policy is softmax(logits)).
        var scaled = allUntempered ? logits : logits / Column(rows.Select(r => r.Temperature > 0 ? (float)r.Temperature : 1f), b, device); // (B, V)
        var policyDist = scaled.log_softmax(-1);                                                  // (B, V)
        Tensor tokens, sampled;                                                                   // (B, 1) each
        if (anySampled)
        {
            var truncated = scaled;
            if (anyTruncated)
            {
                // Top-k, then nucleus (Holtzman et al. 2019) on what top-k left: keep the smallest
                // prefix of the sorted distribution whose mass reaches top_p (the most likely token
                // always stays). Rows that truncate nothing get k = V and top_p = 2 (a bound never hit).
                var (sorted, order) = scaled.sort(dim: -1, descending: true);
                var kIndex = tensor(rows.Select(r => (long)(r.TopK > 0 && r.TopK < vocab ? r.TopK : vocab) - 1).ToArray(), new long[] { b, 1 }, device: device);
                var kth = sorted.gather(1, kIndex);                                               // (B, 1)
                sorted = sorted.masked_fill(sorted.lt(kth), float.NegativeInfinity);
                var probs = sorted.softmax(-1);
                var before = probs.cumsum(-1) - probs;                                            // mass strictly before each token
                var topP = Column(rows.Select(r => r.TopP < 1 ? (float)r.TopP : 2f), b, device);
                sorted = sorted.masked_fill(before.gt(topP), float.NegativeInfinity);
                truncated = full_like(scaled, float.NegativeInfinity).scatter(-1, order, sorted);
            }
            var dist = anyTruncated ? truncated.log_softmax(-1) : policyDist;                     // (B, V)
            var cdf = dist.exp().to(ScalarType.Float64).cumsum(-1);                               // (B, V), non-decreasing
            var u = tensor(rows.Select(r => r.Temperature > 0 ? CounterUniform.Draw(r.Seed, r.TokenIndex) : 0.0).ToArray(), new long[] { b, 1 }, device: device);
            // u · total < total, and a token of probability 0 repeats its predecessor's cdf, so the
            // first index whose cdf exceeds the target (right = true) always has mass.
            var target = u * cdf.narrow(1, vocab - 1, 1);
            tokens = searchsorted(cdf, target, right: true).clamp_max(vocab - 1);                // (B, 1)
            sampled = dist.gather(1, tokens);
            if (anyGreedy)
            {
                var greedy = tensor(rows.Select(r => r.Temperature == 0).ToArray(), new long[] { b, 1 }, device: device);
                tokens = where(greedy, logits.argmax(-1, keepdim: true), tokens);
                sampled = sampled.masked_fill(greedy, 0f);
            }
        }
        else
        {
            tokens = logits.argmax(-1, keepdim: true);                                            // greedy: a point mass
            sampled = zeros(b, 1, ScalarType.Float32, device);
        }
        var policy = policyDist.gather(1, tokens);
        var parts = new List<Tensor> { tokens.to(ScalarType.Float64), sampled.to(ScalarType.Float64), policy.to(ScalarType.Float64) };
        if (topLogProbs >= 0)
        {
            var raw = logits.log_softmax(-1);
            parts.Add(raw.gather(1, tokens).to(ScalarType.Float64));
            if (topLogProbs > 0)
            {
                var (values, indices) = raw.topk(Math.Min(topLogProbs, (int)vocab), dim: -1);
                parts.Add(indices.to(ScalarType.Float64));
                parts.Add(values.to(ScalarType.Float64));
            }
        }
        var packed = cat(parts, 1);                                                              // ids are exact in float64
        return (tokens.squeeze(1).MoveToOuterDisposeScope(), packed.MoveToOuterDisposeScope());
    }

    /// <summary>The packed draws on the host (the step's one device→host copy); raw/top only for rows that asked.</summary>
    public static HostDraws Read(Tensor packed, IReadOnlyList<RowDraw> rows)
    {
        using var host = packed.cpu();
        var all = host.data<double>().ToArray();
        int b = rows.Count, width = (int)packed.shape[1];
        int k = width > 4 ? (width - 4) / 2 : 0;
        var ids = new long[b];
        var sampled = new float[b];
        var policy = new float[b];
        float[]? raw = width > 3 ? new float[b] : null;
        TokenLogProb[][]? top = width > 3 ? new TokenLogProb[b][] : null;
        for (int r = 0; r < b; r++)
        {
            int o = r * width;
            ids[r] = (long)all[o];
            sampled[r] = (float)all[o + 1];
            policy[r] = (float)all[o + 2];
            if (raw is null) continue;
            raw[r] = (float)all[o + 3];
            int asked = Math.Min(rows[r].LogProbs ?? 0, k);
            top![r] = new TokenLogProb[asked];
            for (int j = 0; j < asked; j++) top[r][j] = new TokenLogProb((int)all[o + 4 + j], (float)all[o + 4 + k + j]);
        }
        return new HostDraws(ids, sampled, policy, raw, top);
    }

    /// <summary>
    /// One step for rows that share options: row r draws with <paramref name="seeds"/>[r] at
    /// <paramref name="tokenIndex"/>. Tokens, sampled and policy log-probs, each (B), on the device.
    /// </summary>
    public static (Tensor Tokens, Tensor SampledLogProbs, Tensor PolicyLogProbs) Next(Tensor logits, SamplingOptions o, IReadOnlyList<long> seeds, int tokenIndex = 0)
    {
        using var scope = NewDisposeScope();
        var rows = seeds.Select(s => new RowDraw(o.Temperature, o.TopP, o.TopK, s, tokenIndex)).ToList();
        var (tokens, packed) = Next(logits, rows);
        return (tokens.MoveToOuterDisposeScope(), packed.select(1, 1).to(ScalarType.Float32).MoveToOuterDisposeScope(), packed.select(1, 2).to(ScalarType.Float32).MoveToOuterDisposeScope());
    }

    static Tensor Column(IEnumerable<float> values, int b, Device device) => tensor(values.ToArray(), new long[] { b, 1 }, device: device);
}
