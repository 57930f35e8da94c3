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
    /// <summary>
    /// Bucket boundaries of the reward histograms. Rewards lie in [0, 1], and OpenTelemetry's default
    /// boundaries (0, 5, 10, 25, … 10000) put every step into one bucket, so a Prometheus quantile over them said nothing.
    /// </summary>
    public static readonly IReadOnlyList<double> RewardBucketBoundaries = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1];
    static readonly Histogram<double> Reward = Meter.CreateHistogram("rft.reward.mean", unit: null, description: "mean reward of a step", tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RewardBucketBoundaries });
    static readonly Histogram<double> EvalReward = Meter.CreateHistogram("rft.eval.reward.mean", unit: null, description: "held-out reward", tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RewardBucketBoundaries });
    static readonly Histogram<double> PhaseSeconds = Meter.CreateHistogram<double>("rft.step.duration", unit: "s", description: "step time by phase");
    static readonly Histogram<double> TokensPerSecond = Meter.CreateHistogram<double>("rft.tokens_per_second", description: "rollout and training throughput");
    static readonly Counter<long> TrainableTokens = Meter.CreateCounter<long>("rft.train.tokens", description: "completion tokens the loss trained on (the model's own, inside max_context_length)");
    static readonly Counter<long> TruncatedSamples = Meter.CreateCounter<long>("rft.context.truncated.samples", description: "training sequences cut by max_context_length");
    static readonly Counter<long> TruncatedTokens = Meter.CreateCounter<long>("rft.context.truncated.tokens", description: "tokens cut by max_context_length (kind: all, or trainable: the model's own)");
    static readonly Counter<long> AgentRollouts = Meter.CreateCounter<long>("rft.agent.rollouts", description: "agent rollouts");
    static readonly Counter<long> AgentFailures = Meter.CreateCounter<long>("rft.agent.rollouts.failed", description: "agent rollouts that failed, by agent.failure (init_refused, server_error, deadline, …)");
    static readonly Counter<long> AgentModelCalls = Meter.CreateCounter<long>("rft.agent.model_calls", description: "model calls made by agents");
    static readonly Counter<long> AgentToolCalls = Meter.CreateCounter<long>("rft.agent.tool_calls", description: "tool calls made by agents (outcome: ok or error)");
    static readonly Counter<long> ExtraSamples = Meter.CreateCounter<long>("rft.agent.extra_samples", description: "further training sequences of agents that re-rendered their history");

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
        TrainableTokens.Add(m.TrainableTokens, method);
        TruncatedSamples.Add(m.ContextTruncatedSamples, method);
        TruncatedTokens.Add(m.ContextTruncatedTokens, new KeyValuePair<string, object?>("kind", "all"));
        TruncatedTokens.Add(m.ContextTruncatedTrainableTokens, new KeyValuePair<string, object?>("kind", "trainable"));
        if (m.AgentRollouts == 0) return;
        // Counts per step are rounded back from the step's means: the record keeps means, the counters sums.
        AgentRollouts.Add(m.AgentRollouts, method);
        AgentModelCalls.Add((long)Math.Round(m.AgentModelCallsMean * m.AgentRollouts), method);
        long toolCalls = (long)Math.Round(m.AgentToolCallsMean * m.AgentRollouts);
        AgentToolCalls.Add(Math.Max(0, toolCalls - m.AgentToolErrors), new KeyValuePair<string, object?>("outcome", "ok"));
        AgentToolCalls.Add(m.AgentToolErrors, new KeyValuePair<string, object?>("outcome", "error"));
        ExtraSamples.Add(m.ExtraSamples, method);
        foreach (var (kind, count) in m.AgentFailures ?? new Dictionary<string, int>())
            AgentFailures.Add(count, new KeyValuePair<string, object?>("agent.failure", kind));
    }
}
