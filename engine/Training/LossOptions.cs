namespace Orleans.Rft.Engine.Training;

/// <summary>The policy-gradient objective and its clipping, named as in TRL's <c>GRPOConfig</c>.</summary>
public sealed record LossOptions(
    string Method = LossMethods.Grpo,
    double Epsilon = 0.2,
    double? EpsilonHigh = null,
    double KlBeta = 0.0,
    RewardScaling? ScaleRewards = null,
    int MaxCompletionLength = 256)
{
    /// <summary>Upper clip: DAPO's clip-higher defaults to 0.28 (DAPO §3.1), CISPO's to 0.28 too; the others clip symmetrically.</summary>
    public double UpperEpsilon => EpsilonHigh ?? (Method is LossMethods.Dapo or LossMethods.Cispo ? 0.28 : Epsilon);

    /// <summary>Dr. GRPO drops the std division by default; the others scale per group.</summary>
    public RewardScaling Scaling => ScaleRewards ?? (Method == LossMethods.DrGrpo ? RewardScaling.None : RewardScaling.Group);

    public void Validate()
    {
        if (!LossMethods.All.Contains(Method)) throw new ArgumentException($"loss method '{Method}' is not one of {string.Join(", ", LossMethods.All)}.");
        if (Epsilon is <= 0 or >= 1) throw new ArgumentException($"loss epsilon must be in (0, 1) (got {Epsilon}).");
        if (EpsilonHigh is <= 0) throw new ArgumentException($"loss epsilon_high must be > 0 (got {EpsilonHigh}).");
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
