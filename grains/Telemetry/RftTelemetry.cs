using System.Diagnostics;
using System.Diagnostics.Metrics;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Grains.Telemetry;

/// <summary>
/// The project's <see cref="Meter"/> and <see cref="ActivitySource"/> ("Orleans.Rft"), for any
/// OpenTelemetry exporter the host wires up. Tags are bounded (loss method, phase), never job ids.
/// </summary>
public static class RftTelemetry
{
    public const string Name = "Orleans.Rft";
    public static readonly Meter Meter = new(Name);
    public static readonly ActivitySource Activities = new(Name);

    static readonly Counter<long> Steps = Meter.CreateCounter<long>("rft.steps", description: "training steps completed");
    static readonly Counter<long> Rollouts = Meter.CreateCounter<long>("rft.rollouts", description: "rollouts scored");
    static readonly Counter<long> InvalidScores = Meter.CreateCounter<long>("rft.rollouts.invalid", description: "rollouts whose evaluator result was invalid (error, timeout, NaN, out of range)");
    static readonly Histogram<double> Reward = Meter.CreateHistogram<double>("rft.reward.mean", description: "mean reward of a step");
    static readonly Histogram<double> EvalReward = Meter.CreateHistogram<double>("rft.eval.reward.mean", description: "held-out reward");
    static readonly Histogram<double> PhaseSeconds = Meter.CreateHistogram<double>("rft.step.duration", unit: "s", description: "step time by phase");
    static readonly Histogram<double> TokensPerSecond = Meter.CreateHistogram<double>("rft.tokens_per_second", description: "rollout and training throughput");

    public static void RecordStep(StepMetrics m, string lossMethod, int rollouts)
    {
        var method = new KeyValuePair<string, object?>("loss.method", lossMethod);
        Steps.Add(1, method);
        Rollouts.Add(rollouts, method);
        InvalidScores.Add((long)Math.Round(rollouts * (1 - m.ValidFraction)), method);
        Reward.Record(m.RewardMean, method);
        if (m.EvalRewardMean is double e) EvalReward.Record(e, method);
        foreach (var (phase, seconds) in new[] { ("rollout", m.RolloutSeconds), ("evaluation", m.EvaluationSeconds), ("training", m.TrainSeconds), ("sync", m.SyncSeconds), ("step", m.StepSeconds) })
            PhaseSeconds.Record(seconds, new KeyValuePair<string, object?>("phase", phase));
        TokensPerSecond.Record(m.RolloutTokensPerSecond, new KeyValuePair<string, object?>("phase", "rollout"));
        TokensPerSecond.Record(m.TrainTokensPerSecond, new KeyValuePair<string, object?>("phase", "training"));
    }
}
