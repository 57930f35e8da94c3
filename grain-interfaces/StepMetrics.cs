namespace Orleans.Rft.GrainInterfaces;

/// <summary>
/// What one training step measured (DESIGN §3); kept in the job's history. A skipped update
/// (<see cref="SkippedUpdates"/>) reports its NaN/∞ grad norm and loss as they were, so JSON carries
/// named floating-point literals (<c>"NaN"</c>). <see cref="DroppedGroups"/> and
/// <see cref="ResampleRounds"/> are dynamic sampling's (groups without reward variance left out,
/// top-up rounds run).
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
    [property: Id(31)] int SkippedUpdates = 0);
