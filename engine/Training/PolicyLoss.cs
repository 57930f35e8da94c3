using TorchSharp;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Training;

/// <summary>
/// Batch-wide normalisers, so that micro-batches (and trainer ranks) each add their share of one
/// loss: summing the micro-batch losses gives exactly the loss of the whole batch.
/// </summary>
public sealed record LossNormalizer(int Sequences, long Tokens);

/// <summary>Sums over one micro-batch that the step metrics are built from.</summary>
public sealed record LossStatistics(double Tokens, double RatioSum, double RatioMin, double RatioMax, double ClippedTokens, double KlSum)
{
    public static readonly LossStatistics Empty = new(0, 0, double.PositiveInfinity, double.NegativeInfinity, 0, 0);

    public LossStatistics Add(LossStatistics o) => new(Tokens + o.Tokens, RatioSum + o.RatioSum,
        Math.Min(RatioMin, o.RatioMin), Math.Max(RatioMax, o.RatioMax), ClippedTokens + o.ClippedTokens, KlSum + o.KlSum);
}

/// <summary>
/// The GRPO-family policy losses on per-token log-probs. Shapes: log-probs and mask (B, T) over
/// target positions, advantages (B). Returns this micro-batch's share of the batch loss.
/// </summary>
public static class PolicyLoss
{
    /// <param name="logp">log π_θ(y_t) with grad, (B, T)</param>
    /// <param name="oldLogp">behaviour log-probs under the tempered policy softmax(logits / T), as the sampler
    /// recorded them or as the trainer recomputed them, (B, T)</param>
    /// <param name="refLogp">reference (adapter off) log-probs, (B, T); null when kl_beta = 0</param>
    /// <param name="advantages">(B)</param>
    /// <param name="mask">1 on completion tokens that count (the model's own), 0 on tool/user tokens and padding, (B, T) float;
    /// positions at 0 add nothing to the loss, its gradient, ratios, KL or normalisers, whatever log-probs they hold</param>
    public static (Tensor Loss, LossStatistics Stats) Compute(Tensor logp, Tensor oldLogp, Tensor? refLogp, Tensor advantages,
        Tensor mask, LossOptions o, LossNormalizer norm)
    {
        using var scope = NewDisposeScope();
        var a = advantages.unsqueeze(1);                                      // (B, 1)
        var lengths = mask.sum(1).clamp_min(1);                               // |y_i|, (B)
        double lo = 1 - o.LowerEpsilon, hi = 1 + o.UpperEpsilon;
        // Off-mask positions (tool and user tokens, padding) are selected away, not multiplied by 0: they
        // may hold any value (an unrecorded behaviour log-prob, a large gap to the reference), and ∞·0 is
        // NaN. torch.where passes no gradient to the side it did not select, so theirs is exactly 0.
        var m = mask.to(ScalarType.Bool);
        var zero = zeros_like(logp);
        var logRatio = where(m, logp - oldLogp, zero);
        Tensor ratio, perToken;
        switch (o.Method)
        {
            case LossMethods.Gspo:
                {
                    // GSPO (Zheng et al. 2025, eq. 7 and the GSPO-token form eq. 13): the sequence ratio
                    // s_i = exp(mean_t log(π/π_old)); per token s_i,t = sg[s_i] · π(y_t)/sg[π(y_t)],
                    // whose value is s_i and whose gradient is GSPO's.
                    var seqLogRatio = logRatio.sum(1) / lengths;                  // (B)
                    var s = seqLogRatio.unsqueeze(1).detach() + logp - logp.detach();
                    ratio = s.exp();
                    perToken = -minimum(ratio * a, ratio.clamp(lo, hi) * a);
                    break;
                }
            case LossMethods.Cispo:
                {
                    // CISPO (MiniMax-M1, Chen et al. 2025, eq. 4): clip the importance weight itself and
                    // stop its gradient, so every token keeps a REINFORCE gradient: −sg(min(r, 1+ε_high))·A·log π.
                    ratio = logRatio.exp();
                    perToken = -(ratio.clamp_max(hi).detach() * a * logp);
                    break;
                }
            default:
                {
                    // PPO clipped surrogate (Schulman et al. 2017, eq. 7) as TRL grpo_trainer.py computes it:
                    // −min(r·A, clip(r, 1−ε, 1+ε_high)·A), with DAPO's clip-higher when ε_high > ε.
                    ratio = logRatio.exp();
                    perToken = -minimum(ratio * a, ratio.clamp(lo, hi) * a);
                    break;
                }
        }

        Tensor? kl = null;
        if (refLogp is not null && o.KlBeta > 0)
        {
            // k3 estimator of KL(π_θ ‖ π_ref) (Schulman 2020, "Approximating KL divergence"), as in TRL:
            // exp(ref − logp) − (ref − logp) − 1 ≥ 0.
            var d = where(m, refLogp - logp, zero);
            kl = d.exp() - d - 1;
            perToken = perToken + o.KlBeta * kl;
        }
        perToken = where(m, perToken, zero);

        var loss = o.Method switch
        {
            // GRPO / GSPO: mean over each sequence's tokens, then over sequences (TRL loss_type="grpo").
            LossMethods.Grpo or LossMethods.Gspo => (perToken.sum(1) / lengths).sum() / norm.Sequences,
            // Dr. GRPO: a constant normaliser B·L_max removes the length bias (Liu et al. 2025, eq. 2).
            LossMethods.DrGrpo => perToken.sum() / ((double)norm.Sequences * o.MaxCompletionLength),
            // DAPO token-level mean over the whole batch (DAPO eq. 8–9); CISPO likewise (MiniMax-M1 eq. 4).
            _ => perToken.sum() / Math.Max(1L, norm.Tokens),
        };

        using var noGrad = no_grad();
        var r = ratio.detach();
        double tokens = mask.sum().ToDouble();
        // A token counts as clipped where the clip changed its gradient: for PPO-style objectives the
        // pessimistic side (r < 1−ε with A < 0, r > 1+ε_high with A > 0); CISPO has no lower clip and
        // truncates every weight above 1+ε_high whatever the sign of A (MiniMax-M1 eq. 4).
        var clipped = (o.Method == LossMethods.Cispo
            ? r.gt(hi)
            : r.lt(lo).logical_and(a.lt(0)).logical_or(r.gt(hi).logical_and(a.gt(0)))).logical_and(m);
        var selected = r.masked_select(m);
        var stats = new LossStatistics(
            tokens,
            selected.sum().ToDouble(),
            tokens > 0 ? selected.min().ToDouble() : double.PositiveInfinity,
            tokens > 0 ? selected.max().ToDouble() : double.NegativeInfinity,
            clipped.sum().ToDouble(),
            kl is null ? 0 : where(m, kl.detach(), zero).sum().ToDouble());
        return (loss.MoveToOuterDisposeScope(), stats);
    }
}
