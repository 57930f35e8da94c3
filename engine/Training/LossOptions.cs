namespace Orleans.Rft.Engine.Training;

/// <summary>
/// The policy-gradient objective and its clipping, named as in TRL's <c>GRPOConfig</c>. A null clip
/// range takes the method's default (README, "Loss defaults per method"): GSPO clips a
/// length-normalised sequence ratio, which stays within ~1e-3 of 1, so its range is the paper's
/// 3e-4 / 4e-4 (Zheng et al. 2025, §5.1), not the token-level 0.2 that would never clip it.
/// </summary>
public sealed record LossOptions(
    string Method = LossMethods.Grpo,
    double? Epsilon = null,
    double? EpsilonHigh = null,
    double KlBeta = 0.0,
    RewardScaling? ScaleRewards = null,
    int MaxCompletionLength = 256)
{
    public const double TokenEpsilon = 0.2;
    public const double ClipHigherEpsilon = 0.28;
    public const double GspoEpsilon = 3e-4;
    public const double GspoEpsilonHigh = 4e-4;

    /// <summary>Lower clip ε (ratio floor 1 − ε): GSPO 3e-4, the others 0.2 (PPO's). CISPO has no lower clip and ignores it.</summary>
    public double LowerEpsilon => Epsilon ?? (Method == LossMethods.Gspo ? GspoEpsilon : TokenEpsilon);

    /// <summary>
    /// Upper clip ε_high (ratio ceiling 1 + ε_high): DAPO's clip-higher 0.28 (DAPO §3.1) for dapo and
    /// cispo; GSPO's 4e-4 unless the user set <c>epsilon</c> alone (then symmetric); the others ε.
    /// </summary>
    public double UpperEpsilon => EpsilonHigh ?? Method switch
    {
        LossMethods.Dapo or LossMethods.Cispo => ClipHigherEpsilon,
        LossMethods.Gspo when Epsilon is null => GspoEpsilonHigh,
        _ => LowerEpsilon,
    };

    /// <summary>Dr. GRPO drops the std division by default; the others scale per group.</summary>
    public RewardScaling Scaling => ScaleRewards ?? (Method == LossMethods.DrGrpo ? RewardScaling.None : RewardScaling.Group);

    public void Validate()
    {
        if (!LossMethods.All.Contains(Method)) throw new ArgumentException($"loss method '{Method}' is not one of {string.Join(", ", LossMethods.All)}.");
        if (Epsilon is <= 0 or >= 1 || Epsilon is double e && double.IsNaN(e)) throw new ArgumentException($"loss epsilon must be in (0, 1) (got {Epsilon}).");
        if (EpsilonHigh is <= 0 || EpsilonHigh is double h && double.IsNaN(h)) throw new ArgumentException($"loss epsilon_high must be > 0 (got {EpsilonHigh}).");
        if (KlBeta < 0) throw new ArgumentException($"loss kl_beta must be ≥ 0 (got {KlBeta}).");
        if (MaxCompletionLength < 1) throw new ArgumentException("max completion length must be ≥ 1.");
    }
}

public static class LossMethods
{
    public const string Grpo = "grpo";
    public const string DrGrpo = "dr_grpo";
    public const string Dapo = "dapo";
    public const string Gspo = "gspo";
    public const string Cispo = "cispo";
    public static readonly string[] All = [Grpo, DrGrpo, Dapo, Gspo, Cispo];
}
