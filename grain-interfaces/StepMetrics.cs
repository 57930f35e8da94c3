namespace Orleans.Rft.GrainInterfaces;

/// <summary>
/// What one training step measured (DESIGN §3); kept in the job's history. A skipped update
/// (<see cref="SkippedUpdates"/>) reports its NaN/∞ grad norm and loss as they were, so JSON carries
/// named floating-point literals (<c>"NaN"</c>). <see cref="DroppedGroups"/> and
/// <see cref="ResampleRounds"/> are dynamic sampling's (groups without reward variance left out,
/// top-up rounds run). <see cref="ContextTruncatedSamples"/> / <see cref="ContextTruncatedTokens"/> /
/// <see cref="ContextTruncatedTrainableTokens"/> say what <c>training.max_context_length</c> cut from the
/// step's training sequences (all tokens past it, and the model's own tokens among them, which did not
/// train); <see cref="TrainableTokens"/> is what the loss saw. The agent fields are zero for single-answer
/// jobs: <see cref="AgentFailures"/> counts failed rollouts by <c>AgentReport.FailureKind</c>,
/// the means are per agent rollout, <see cref="ExtraSamples"/> are the further sequences of rollouts whose
/// agent re-rendered its history (trained with the rollout's advantage). Completion lengths and rollout
/// tokens/s count the tokens the model generated (a multi-turn rollout's own tokens, not tool results).
/// <see cref="RolloutsBySilo"/> counts the step's rollouts by the silo (address) that generated them: the
/// elastic split over the silos present at the step, weighted by their measured throughput.
/// </summary>
[GenerateSerializer, Immutable, Alias("rft.StepMetrics")]
[System.Text.Json.Serialization.JsonNumberHandling(System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals)]
public sealed record StepMetrics(
    [property: Id(0)] int Step,
    [property: Id(1)] int PolicyVersion,
    [property: Id(2)] double RewardMean,
    [property: Id(3)] double RewardStd,
    [property: Id(4)] double ValidFraction,
    [property: Id(5)] int EvaluatorErrors,
    [property: Id(6)] int EvaluatorTimeouts,
    [property: Id(7)] double FracRewardZeroStd,
    [property: Id(8)] double CompletionLengthMean,
    [property: Id(9)] int CompletionLengthMax,
    [property: Id(10)] double TruncatedFraction,
    [property: Id(11)] double Kl,
    [property: Id(12)] double Entropy,
    [property: Id(13)] double ClipFraction,
    [property: Id(14)] double GradNorm,
    [property: Id(15)] double LearningRate,
    [property: Id(16)] double RolloutTokensPerSecond,
    [property: Id(17)] double TrainTokensPerSecond,
    [property: Id(18)] double RolloutSeconds,
    [property: Id(19)] double EvaluationSeconds,
    [property: Id(20)] double TrainSeconds,
    [property: Id(21)] double SyncSeconds,
    [property: Id(22)] double StepSeconds,
    [property: Id(23)] double PolicyLag,
    [property: Id(24)] double? EvalRewardMean,
    [property: Id(25)] IReadOnlyDictionary<string, double> MetricMeans,
    [property: Id(26)] double EngineSeconds,
    [property: Id(27)] double Loss,
    [property: Id(28)] double RatioMean,
    [property: Id(29)] int DroppedGroups = 0,
    [property: Id(30)] int ResampleRounds = 0,
    [property: Id(31)] int SkippedUpdates = 0,
    [property: Id(32)] int ContextTruncatedSamples = 0,
    [property: Id(33)] long ContextTruncatedTokens = 0,
    [property: Id(34)] long ContextTruncatedTrainableTokens = 0,
    [property: Id(35)] long TrainableTokens = 0,
    [property: Id(36)] int AgentRollouts = 0,
    [property: Id(37)] double AgentModelCallsMean = 0,
    [property: Id(38)] double AgentToolCallsMean = 0,
    [property: Id(39)] int AgentToolErrors = 0,
    [property: Id(40)] int ExtraSamples = 0,
    [property: Id(41)] IReadOnlyDictionary<string, int>? AgentFailures = null,
    [property: Id(42)] IReadOnlyDictionary<string, int>? RolloutsBySilo = null)
{
    /// <summary>Agent rollouts that failed, all kinds together.</summary>
    public int AgentFailed => AgentFailures?.Values.Sum() ?? 0;
}
