using Orleans.Rft.Engine.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Tests;

/// <summary>
/// Top-k and top-p judged by the distribution they leave: over many seeds, the tokens that can ever be
/// drawn from a known distribution are exactly the top-k / nucleus set, drawn at their renormalised
/// frequencies. Disabling either filter, applying the nucleus before the temperature, or moving the
/// nucleus boundary by one token changes the set.
/// </summary>
public sealed class TokenSamplerTests
{
    // Eight tokens, probabilities in a shuffled token order (so the sort matters):
    // token 5: 0.30, 2: 0.22, 7: 0.16, 0: 0.12, 3: 0.09, 6: 0.06, 1: 0.03, 4: 0.02.
    static readonly int[] ByRank = [5, 2, 7, 0, 3, 6, 1, 4];
    static readonly double[] RankProbability = [0.30, 0.22, 0.16, 0.12, 0.09, 0.06, 0.03, 0.02];
    const int Rows = 2000, Seeds = 5;

    static double[] Probabilities()
    {
        var p = new double[8];
        for (int r = 0; r < 8; r++) p[ByRank[r]] = RankProbability[r];
        return p;
    }

    /// <summary>Counts of each token over <see cref="Seeds"/> × <see cref="Rows"/> draws, and every draw's sampled/policy log-probs.</summary>
    static (int[] Counts, List<(int Token, float Sampled, float Policy)> Draws) Draw(SamplingOptions o)
    {
        var counts = new int[8];
        var draws = new List<(int, float, float)>();
        var logits = Probabilities().Select(p => (float)Math.Log(p)).ToArray();
        for (int seed = 0; seed < Seeds; seed++)
        {
            using var scope = NewDisposeScope();
            var batch = tensor(logits).unsqueeze(0).expand(Rows, 8).contiguous();
            var seeds = Enumerable.Range(0, Rows).Select(i => SamplingOptions.RowSeed(1000 + seed, i)).ToArray(); // every row its own counter-based draw
            var (tokens, sampled, policy) = TokenSampler.Next(batch, o, seeds);
            var t = tokens.data<long>().ToArray();
            var s = sampled.data<float>().ToArray();
            var q = policy.data<float>().ToArray();
            for (int i = 0; i < Rows; i++) { counts[t[i]]++; draws.Add(((int)t[i], s[i], q[i])); }
        }
        return (counts, draws);
    }

    /// <summary>The set drawn is exactly <paramref name="allowed"/> (tokens by rank), at frequencies and log-probs of the renormalised tempered distribution.</summary>
    static void AssertLeaves(SamplingOptions o, int keptRanks)
    {
        var (counts, draws) = Draw(o);
        var tempered = RankProbability.Select(p => Math.Pow(p, 1 / o.Temperature)).ToArray();
        var z = tempered.Sum();
        var keptMass = tempered.Take(keptRanks).Sum();
        var allowed = ByRank.Take(keptRanks).ToHashSet();
        var drawn = Enumerable.Range(0, 8).Where(t => counts[t] > 0).ToHashSet();
        Assert.True(allowed.SetEquals(drawn), $"expected tokens {{{string.Join(",", allowed.Order())}}}, drew {{{string.Join(",", drawn.Order())}}} (counts {string.Join(",", counts)})");
        int total = Rows * Seeds;
        for (int r = 0; r < keptRanks; r++)
        {
            var expected = tempered[r] / keptMass;
            var seen = counts[ByRank[r]] / (double)total;
            Assert.True(Math.Abs(seen - expected) < 0.02, $"token {ByRank[r]}: frequency {seen:F4}, expected {expected:F4}");
        }
        foreach (var (token, sampled, policy) in draws.DistinctBy(d => d.Token))
        {
            var r = Array.IndexOf(ByRank, token);
            Assert.Equal(Math.Log(tempered[r] / keptMass), sampled, 4);  // under the truncated distribution
            Assert.Equal(Math.Log(tempered[r] / z), policy, 4);          // under the tempered, untruncated policy
        }
    }

    [Fact]
    public void Without_truncation_every_token_can_be_drawn() => AssertLeaves(new SamplingOptions(), keptRanks: 8);

    [Fact]
    public void Top_k_3_leaves_exactly_the_three_most_likely_tokens() => AssertLeaves(new SamplingOptions(TopK: 3), keptRanks: 3);

    // Masses before each token, by rank: 0, 0.30, 0.52, 0.68 → top_p 0.6 keeps three (the third brings
    // the prefix past 0.6), never the fourth; neither boundary is near 0.6.
    [Fact]
    public void Top_p_0_6_leaves_the_smallest_prefix_whose_mass_reaches_0_6() => AssertLeaves(new SamplingOptions(TopP: 0.6), keptRanks: 3);

    // At T = 0.5 the tempered probabilities are p² / Σp²: 0.470, 0.253, 0.134, 0.075, … (masses before:
    // 0, 0.470, 0.723, 0.857), so top_p 0.8 keeps three; at T = 1 it would keep five.
    [Fact]
    public void Top_p_applies_to_the_tempered_distribution() => AssertLeaves(new SamplingOptions(Temperature: 0.5, TopP: 0.8), keptRanks: 3);

    [Fact]
    public void Top_k_and_top_p_together_leave_the_smaller_set() => AssertLeaves(new SamplingOptions(TopK: 2, TopP: 0.9), keptRanks: 2);
}
