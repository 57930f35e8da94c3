namespace Orleans.Rft.Evaluators;

/// <summary>
/// Sizes the built-in evaluators accept. Beyond them an item is scored invalid with the reason,
/// never attempted: a reward is computed per rollout inside a step, so each must be bounded work.
/// </summary>
public static class EvaluationLimits
{
    /// <summary>Completion and ground truth (as JSON text) are at most 1 MiB of characters each.</summary>
    public const int MaxInputChars = 1 << 20;

    /// <summary>
    /// <c>string_similarity</c> compares at most 10,000 characters a side: Levenshtein is O(n·m)
    /// time (10⁸ cell updates, well under a second), in linear memory.
    /// </summary>
    public const int MaxSimilarityChars = 10_000;

    /// <summary>Built evaluators kept per silo (LRU): one per distinct evaluator spec in use.</summary>
    public const int CachedEvaluators = 64;

    /// <summary>The reason an input over <see cref="MaxInputChars"/> is refused, or null when it fits.</summary>
    public static string? Oversize(EvaluationInput input)
    {
        if (input.Completion.Length > MaxInputChars)
            return $"the completion is {input.Completion.Length:N0} characters; built-in evaluators take at most {MaxInputChars:N0} (1 MiB); lower inference.max_tokens";
        var truth = input.GroundTruth is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out var s) ? s.Length : input.GroundTruth?.ToJsonString().Length ?? 0;
        if (truth > MaxInputChars)
            return $"the row's ground_truth is {truth:N0} characters; built-in evaluators take at most {MaxInputChars:N0} (1 MiB); shorten it in the dataset";
        return null;
    }
}
