using Orleans.Rft.Engine.Sampling;
using Orleans.Rft.Engine.Training;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Grains.Jobs;

/// <summary>
/// Turns one step's raw results into the <see cref="StepMetrics"/> record of DESIGN §3. A non-finite
/// <paramref name="gradNorm"/> means the update was skipped (<see cref="GradientClipping.IsSkipped"/>).
/// <paramref name="samples"/> are the step's training sequences that have tokens to train (before the
/// context window), measured against <paramref name="maxContextLength"/> for the truncation counts.
/// </summary>
public static class StepMetricsBuilder
{
    public static StepMetrics Build(int step, int version, IReadOnlyList<PendingRollout> rollouts, IReadOnlyList<EvaluateOutcome> outcomes,
        AdvantageResult advantages, GradientSummary g, double gradNorm, double lr, double rolloutSeconds, double evaluationSeconds,
        double trainSeconds, double syncSeconds, double stepSeconds, double? evalReward, int maxTokens, int droppedGroups = 0, int resampleRounds = 0,
        IReadOnlyList<TrainSample>? samples = null, int maxContextLength = int.MaxValue)
    {
        samples ??= [];
        var cuts = samples.Select(x => TrainSamples.Cut(x, maxContextLength)).Where(c => c.Any).ToList();
        var agents = rollouts.Select(r => r.Completion.Agent).OfType<AgentReport>().ToList();
        var failures = agents.Where(a => a.FailureKind is not null).GroupBy(a => a.FailureKind!).ToDictionary(k => k.Key, k => k.Count());
        var valid = outcomes.Where(o => o.IsScoreValid).Select(o => o.Score).ToArray();
        var (mean, std, _) = Engine.Training.Advantages.MeanStd(valid);
        var lengths = rollouts.Select(r => Generated(r.Completion)).ToArray();
        var groups = rollouts.Select(r => r.Row).Distinct().Count();
        var metricMeans = outcomes.Where(o => o.IsScoreValid).SelectMany(o => o.Metrics)
            .GroupBy(kv => kv.Key).ToDictionary(kv => kv.Key, kv => kv.Average(x => x.Value));
        double tokens = Math.Max(1, g.Tokens);
        var generated = lengths.Sum();
        return new StepMetrics(
            step, version, mean, std,
            outcomes.Count == 0 ? 0 : (double)valid.Length / outcomes.Count,
            outcomes.Count(o => o.Errored), outcomes.Count(o => o.TimedOut),
            groups == 0 ? 0 : (double)advantages.ZeroStdGroups / groups,
            lengths.Length == 0 ? 0 : lengths.Average(), lengths.Length == 0 ? 0 : lengths.Max(),
            rollouts.Count == 0 ? 0 : (double)rollouts.Count(r => r.Completion.FinishReason == FinishReason.Length) / rollouts.Count,
            g.KlSum / tokens, g.EntropySum / tokens, g.ClippedTokens / tokens, gradNorm, lr,
            rolloutSeconds > 0 ? generated / rolloutSeconds : 0,
            trainSeconds > 0 ? rollouts.Sum(r => Sequences(r.Completion)) / trainSeconds : 0,
            rolloutSeconds, evaluationSeconds, trainSeconds, syncSeconds, stepSeconds,
            rollouts.Count == 0 ? 0 : version - 1 - rollouts.Average(r => r.Version),
            evalReward, metricMeans, g.EngineSeconds, g.Loss, g.RatioSum / tokens,
            droppedGroups, resampleRounds, GradientClipping.IsSkipped(gradNorm) ? 1 : 0,
            cuts.Count, cuts.Sum(c => (long)c.Tokens), cuts.Sum(c => (long)c.TrainableTokens),
            samples.Sum(x => (long)TrainSamples.TrainableWithin(x, maxContextLength)),
            agents.Count, agents.Count == 0 ? 0 : agents.Average(a => a.ModelCalls), agents.Count == 0 ? 0 : agents.Average(a => a.ToolCalls),
            agents.Sum(a => a.ToolErrors), rollouts.Sum(r => r.Completion.Extra?.Length ?? 0), failures, BySilo(rollouts));
    }

    /// <summary>The step's rollouts by the silo that generated them (the elastic split, measurable); null when no rollout names one.</summary>
    public static IReadOnlyDictionary<string, int>? BySilo(IReadOnlyList<PendingRollout> rollouts)
    {
        var named = rollouts.Where(r => !string.IsNullOrEmpty(r.Silo)).ToList();
        return named.Count == 0 ? null : named.GroupBy(r => r.Silo!, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());
    }

    /// <summary>Tokens the model generated in a rollout: a multi-turn one's own tokens (mask true) in all its sequences, not the tool results inserted between them.</summary>
    static int Generated(GeneratedCompletion c) =>
        (c.Mask?.Count(m => m) ?? c.CompletionIds.Length) + (c.Extra?.Sum(e => e.Mask.Count(m => m)) ?? 0);

    /// <summary>Tokens of every sequence a rollout trains on (prompt and completion, extra sequences included).</summary>
    static long Sequences(GeneratedCompletion c) =>
        c.PromptIds.Length + c.CompletionIds.Length + (c.Extra?.Sum(e => (long)e.PromptIds.Length + e.CompletionIds.Length) ?? 0);
}
