namespace Orleans.Rft.Engine.Training;

/// <summary>How group-relative rewards are scaled into advantages.</summary>
public enum RewardScaling
{
    /// <summary>GRPO (Shao et al. 2024, DeepSeekMath eq. 3): <c>(r − mean_g) / (std_g + eps)</c>.</summary>
    Group,
    /// <summary><c>(r − mean_g) / (std_batch + eps)</c>: TRL's <c>scale_rewards="batch"</c> (Liu et al. 2025 discuss why group std biases towards easy prompts).</summary>
    Batch,
    /// <summary>Dr. GRPO (Liu et al. 2025, "Understanding R1-Zero-Like Training"): <c>r − mean_g</c>, no std division.</summary>
    None,
}

/// <summary>The advantages of one step, plus what the step metrics report about them.</summary>
public sealed record AdvantageResult(double[][] Advantages, int ZeroStdGroups, int InvalidSamples);

/// <summary>Group advantages over the rollouts of each prompt (TRL <c>grpo_trainer.py</c>, <c>_generate_and_score_completions</c>).</summary>
public static class Advantages
{
    /// <summary>TRL adds 1e-4 to the std so identical rewards give 0, not NaN.</summary>
    public const double Epsilon = 1e-4;

    /// <param name="groups">rewards per group (one group = the n samples of one prompt); null marks an
    /// invalid score, which is excluded from its group's mean/std and gets advantage 0</param>
    public static AdvantageResult Compute(IReadOnlyList<IReadOnlyList<double?>> groups, RewardScaling scaling)
    {
        var result = new double[groups.Count][];
        int zeroStd = 0, invalid = 0;
        var stats = groups.Select(g => MeanStd(g.Where(r => r.HasValue).Select(r => r!.Value).ToArray())).ToArray();
        // batch scaling: std over every valid reward of the step
        var batchStd = MeanStd(groups.SelectMany(g => g).Where(r => r.HasValue).Select(r => r!.Value).ToArray()).Std;
        for (int i = 0; i < groups.Count; i++)
        {
            var (mean, std, count) = stats[i];
            if (count > 0 && std == 0) zeroStd++;
            result[i] = new double[groups[i].Count];
            for (int j = 0; j < groups[i].Count; j++)
            {
                if (groups[i][j] is not double r) { invalid++; continue; }
                double a = r - mean;
                a = scaling switch
                {
                    RewardScaling.Group => a / (std + Epsilon),
                    RewardScaling.Batch => a / (batchStd + Epsilon),
                    _ => a,
                };
                result[i][j] = a;
            }
        }
        return new AdvantageResult(result, zeroStd, invalid);
    }

    /// <summary>Mean and unbiased (n − 1) standard deviation, as <c>torch.std</c> computes it; std 0 for n ≤ 1.</summary>
    public static (double Mean, double Std, int Count) MeanStd(double[] values)
    {
        if (values.Length == 0) return (0, 0, 0);
        var mean = values.Average();
        if (values.Length == 1) return (mean, 0, 1);
        var variance = values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1);
        return (mean, Math.Sqrt(variance), values.Length);
    }
}
