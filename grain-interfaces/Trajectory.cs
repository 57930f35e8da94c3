namespace Orleans.Rft.GrainInterfaces;

/// <summary>
/// A further training sequence of a multi-turn rollout: one whose model call's prompt did not extend
/// the previous sequence token for token (Orleans.Rft.Agents.TrajectoryMerge). It trains with the
/// rollout's advantage; <see cref="Mask"/> is true on the model's own tokens.
/// </summary>
[GenerateSerializer, Immutable, Alias("rft.TrajectorySegment")]
public sealed record TrajectorySegment(
    [property: Id(0)] int[] PromptIds,
    [property: Id(1)] int[] CompletionIds,
    [property: Id(2)] float[] LogProbs,
    [property: Id(3)] bool[] Mask);

/// <summary>
/// How an agent rollout went: turns and tool calls, the messages it added after the prompt (OpenAI
/// format, JSON array), and — when it failed — the failure's kind and reason (the rollout is then
/// scored invalid and kept out of the baseline). <see cref="ReportedScore"/> is the agent's own
/// <c>info.score</c> (used by <c>evaluator: {type: agent_reported}</c>).
/// </summary>
[GenerateSerializer, Immutable, Alias("rft.AgentReport")]
public sealed record AgentReport(
    [property: Id(0)] int ModelCalls,
    [property: Id(1)] int ToolCalls,
    [property: Id(2)] int ToolErrors,
    [property: Id(3)] string MessagesJson,
    [property: Id(4)] string? FailureKind = null,
    [property: Id(5)] string? Failure = null,
    [property: Id(6)] double? ReportedScore = null,
    [property: Id(7)] string? ReportedReason = null);
