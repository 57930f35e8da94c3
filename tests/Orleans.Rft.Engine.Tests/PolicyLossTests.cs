using Orleans.Rft.Engine.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Tests;

/// <summary>
/// Each loss on one fixed 2×3 example, against values worked out by hand (the arithmetic is in the
/// comments; a plain-Python transcription of the formulas gave the same digits).
/// </summary>
public sealed class PolicyLossTests
{
    // Sequence 1 (A = +1): ratios e^{0.1}, e^{-0.1}, e^{0.5}; sequence 2 (A = −0.5): ratios 1, e^{−0.2}, third token masked.
    static readonly float[,] LogP = { { -1.0f, -0.5f, -2.0f }, { -0.3f, -1.2f, 0f } };
    static readonly float[,] Old = { { -1.1f, -0.4f, -2.5f }, { -0.3f, -1.0f, 0f } };
    static readonly float[,] Ref = { { -1.2f, -0.6f, -1.8f }, { -0.5f, -1.1f, 0f } };
    static readonly float[,] Mask = { { 1, 1, 1 }, { 1, 1, 0 } };
    static readonly LossNormalizer Norm = new(2, 5);

    static (double Loss, LossStatistics Stats) Run(LossOptions o, bool withRef = false)
    {
        var (loss, stats) = PolicyLoss.Compute(tensor(LogP), tensor(Old), withRef ? tensor(Ref) : null, tensor(new[] { 1.0f, -0.5f }), tensor(Mask), o, Norm);
        return (loss.ToDouble(), stats);
    }

    [Fact]
    public void Grpo_is_the_clipped_surrogate_averaged_per_sequence_then_over_sequences()
    {
        // seq 1: −(1.10517 + 0.90484 + min(1.64872, 1.2)) / 3 = −1.07000; seq 2: (0.5 + 0.40937) / 2 = 0.45468; mean −0.30766
        var (loss, stats) = Run(new LossOptions(LossMethods.Grpo));
        Assert.Equal(-0.3076600452171868, loss, 5);
        Assert.Equal(1.0 / 5, stats.ClippedTokens / stats.Tokens, 6); // only e^{0.5} > 1.2 with A > 0 is clipped
        Assert.Equal(Math.Exp(0.5), stats.RatioMax, 5);
        Assert.Equal(Math.Exp(-0.2), stats.RatioMin, 5);
    }

    [Fact]
    public void Grpo_with_kl_adds_beta_times_the_k3_estimator_per_token()
    {
        var (loss, stats) = Run(new LossOptions(LossMethods.Grpo, KlBeta: 0.1), withRef: true);
        Assert.Equal(-0.30631298795044415, loss, 5);
        Assert.True(stats.KlSum > 0, "k3 is non-negative and positive where ref ≠ policy");
    }

    [Fact]
    public void Dr_grpo_divides_the_token_sum_by_batch_size_times_max_completion_length()
    {
        var (loss, _) = Run(new LossOptions(LossMethods.DrGrpo, MaxCompletionLength: 4));
        Assert.Equal(-0.28758036994657704, loss, 5);
    }

    [Fact]
    public void Dapo_clips_higher_at_0_28_and_averages_over_all_tokens_of_the_batch()
    {
        var (loss, _) = Run(new LossOptions(LossMethods.Dapo));
        Assert.Equal(-0.4761285919145233, loss, 5);
    }

    [Fact]
    public void Gspo_clips_the_length_normalised_sequence_ratio()
    {
        // s₁ = exp((0.1 − 0.1 + 0.5)/3) = 1.18136 (inside a user's 0.2 clip), s₂ = exp(−0.1) = 0.90484
        var (loss, _) = Run(new LossOptions(LossMethods.Gspo, Epsilon: 0.2));
        Assert.Equal(-0.3644708519238331, loss, 5);
    }

    [Fact]
    public void Gspo_defaults_to_the_papers_clip_range_3e_4_below_and_4e_4_above()
    {
        // s₁ = 1.18136 > 1 + 4e-4 with A = +1: each token −1.0004, sequence mean −1.0004;
        // s₂ = 0.90484 < 1 − 3e-4 with A = −0.5: −min(−0.45242, −0.5·0.9997) = 0.49985; mean over 2 = −0.250275.
        var (loss, stats) = Run(new LossOptions(LossMethods.Gspo));
        Assert.Equal(-0.250275, loss, tolerance: 1e-6);
        Assert.Equal(1.0, stats.ClippedTokens / stats.Tokens, 6); // every token: s₁ above with A > 0, s₂ below with A < 0
    }

    [Theory]
    [InlineData(LossMethods.Grpo, null, null, 0.2, 0.2)]
    [InlineData(LossMethods.DrGrpo, null, null, 0.2, 0.2)]
    [InlineData(LossMethods.Dapo, null, null, 0.2, 0.28)]
    [InlineData(LossMethods.Gspo, null, null, 3e-4, 4e-4)]
    [InlineData(LossMethods.Cispo, null, null, 0.2, 0.28)]
    [InlineData(LossMethods.Gspo, 1e-3, null, 1e-3, 1e-3)]   // a user's epsilon alone: symmetric
    [InlineData(LossMethods.Gspo, null, 5e-4, 3e-4, 5e-4)]
    [InlineData(LossMethods.Dapo, 0.1, null, 0.1, 0.28)]     // clip-higher stays unless overridden
    [InlineData(LossMethods.Grpo, 0.1, 0.3, 0.1, 0.3)]
    public void Clip_range_defaults_per_method_and_user_overrides_win(string method, double? eps, double? high, double lower, double upper)
    {
        var o = new LossOptions(method, eps, high);
        Assert.Equal(lower, o.LowerEpsilon, 12);
        Assert.Equal(upper, o.UpperEpsilon, 12);
    }

    [Fact]
    public void Cispo_weights_log_probs_by_the_stopped_clipped_ratio()
    {
        var (loss, _) = Run(new LossOptions(LossMethods.Cispo));
        Assert.Equal(0.6952702350493677, loss, 5);
    }

    [Fact]
    public void Cispo_gradient_is_minus_the_clipped_weight_times_advantage_over_token_count()
    {
        var logp = tensor(LogP).requires_grad_(true);
        var (loss, _) = PolicyLoss.Compute(logp, tensor(Old), null, tensor(new[] { 1.0f, -0.5f }), tensor(Mask), new LossOptions(LossMethods.Cispo), Norm);
        loss.backward();
        var g = logp.grad!;
        Assert.Equal(-Math.Min(Math.Exp(0.5), 1.28) / 5, g[0, 2].ToDouble(), 5); // clipped at 1 + 0.28
        Assert.Equal(0.5 * Math.Exp(-0.2) / 5, g[1, 1].ToDouble(), 5);
        Assert.Equal(0.0, g[1, 2].ToDouble(), 7);                                // masked token
    }

    /// <summary>CISPO has no lower clip: a low ratio with A &lt; 0 is not clipped, a high one with A &lt; 0 is (its weight is truncated).</summary>
    [Theory]
    [InlineData(-0.5, -1.0, 0.0)]   // r = 0.61 < 1 − ε: PPO would count it, CISPO leaves the weight alone
    [InlineData(0.5, -1.0, 1.0)]    // r = 1.65 > 1.28 with A < 0: CISPO truncates the weight
    [InlineData(0.5, 1.0, 1.0)]
    [InlineData(0.1, 1.0, 0.0)]
    public void Cispo_clip_fraction_counts_only_weights_truncated_at_1_plus_epsilon_high(double logRatio, double advantage, double clipped)
    {
        var (_, stats) = PolicyLoss.Compute(tensor(new[,] { { (float)logRatio } }), tensor(new[,] { { 0f } }), null,
            tensor(new[] { (float)advantage }), tensor(new[,] { { 1f } }), new LossOptions(LossMethods.Cispo), new LossNormalizer(1, 1));
        Assert.Equal(clipped, stats.ClippedTokens);
    }

    [Fact]
    public void Splitting_the_batch_into_micro_batches_sums_to_the_whole_batch_loss()
    {
        foreach (var method in LossMethods.All)
        {
            var o = new LossOptions(method, MaxCompletionLength: 4);
            var whole = Run(o).Loss;
            double parts = 0;
            for (int i = 0; i < 2; i++)
            {
                var (l, _) = PolicyLoss.Compute(tensor(LogP)[i].unsqueeze(0), tensor(Old)[i].unsqueeze(0), null,
                    tensor(new[] { i == 0 ? 1.0f : -0.5f }), tensor(Mask)[i].unsqueeze(0), o, Norm);
                parts += l.ToDouble();
            }
            Assert.True(Math.Abs(whole - parts) < 1e-6, $"{method}: whole {whole} vs parts {parts}");
        }
    }
}
