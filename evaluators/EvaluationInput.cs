using System.Text.Json.Nodes;

namespace Orleans.Rft.Evaluators;

/// <summary>
/// What an evaluator sees of one rollout: the final assistant text, the dataset row's
/// <c>ground_truth</c> and the whole row (messages, tools, metadata and any other keys).
/// </summary>
public sealed record EvaluationInput(string Completion, JsonNode? GroundTruth, JsonObject Row)
{
    public static EvaluationInput Of(string completion, JsonNode? groundTruth) => new(completion, groundTruth, new JsonObject());
}

/// <summary>A reward function: scores one rollout in [0, 1]. Implementations know nothing of Orleans.</summary>
public interface IEvaluator
{
    string Type { get; }
    Task<EvaluationResult> EvaluateAsync(EvaluationInput input, CancellationToken cancellation);
}
