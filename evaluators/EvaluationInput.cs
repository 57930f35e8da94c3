using System.Text.Json.Nodes;

namespace Orleans.Rft.Evaluators;

/// <summary>
/// What an evaluator sees of one rollout: the final assistant text, the dataset row's
/// <c>ground_truth</c> and the whole row (messages, tools, metadata and any other keys). For an agent
/// rollout, <see cref="Trajectory"/> holds the messages the agent added after the prompt (assistant
/// turns with tool_calls, tool results, the final answer) and <see cref="ReportedScore"/> the score
/// the agent reported itself, if any.
/// </summary>
public sealed record EvaluationInput(string Completion, JsonNode? GroundTruth, JsonObject Row, JsonArray? Trajectory = null, double? ReportedScore = null, string? ReportedReason = null)
{
    public static EvaluationInput Of(string completion, JsonNode? groundTruth) => new(completion, groundTruth, new JsonObject());
}

/// <summary>A reward function: scores one rollout in [0, 1]. Implementations know nothing of Orleans.</summary>
public interface IEvaluator
{
    string Type { get; }

    /// <summary>
    /// True when <see cref="EvaluateAsync"/> returns at its first wait and its work is awaited I/O (a
    /// worker process's pipe, a socket), so it never holds a thread: <see cref="EvaluatorRunner"/> then
    /// runs it on the thread pool instead of a thread of its own, since its deadline cannot be starved.
    /// </summary>
    bool IsAsynchronous => false;

    Task<EvaluationResult> EvaluateAsync(EvaluationInput input, CancellationToken cancellation);
}
