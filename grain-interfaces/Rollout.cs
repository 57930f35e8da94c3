namespace Orleans.Rft.GrainInterfaces;

/// <summary>
/// One scored rollout as kept in the rollout log: token ids (never re-tokenised), the behaviour
/// log-probs, the policy version that produced it, and the evaluator's verdict.
/// </summary>
[GenerateSerializer, Immutable, Alias("rft.Rollout")]
public sealed record Rollout(
    [property: Id(0)] int Step,
    [property: Id(1)] int Row,
    [property: Id(2)] int Sample,
    [property: Id(3)] int PolicyVersion,
    [property: Id(4)] int[] PromptIds,
    [property: Id(5)] int[] CompletionIds,
    [property: Id(6)] float[] LogProbs,
    [property: Id(7)] string Completion,
    [property: Id(8)] string FinishReason,
    [property: Id(9)] double Reward,
    [property: Id(10)] bool IsScoreValid,
    [property: Id(11)] string Reason,
    [property: Id(12)] IReadOnlyDictionary<string, double> Metrics,
    [property: Id(13)] double Advantage,
    [property: Id(14)] bool[]? Mask = null,
    [property: Id(15)] AgentReport? Agent = null,
    [property: Id(16)] int ExtraSamples = 0);
