using System.Text.Json.Nodes;

namespace Orleans.Rft.Evaluators.BuiltIn;

/// <summary><c>exact_match</c>: 1 when the completion equals the reference (trimmed; optionally case-insensitive).</summary>
public sealed class ExactMatchEvaluator(bool strip, bool ignoreCase, string? value) : IEvaluator
{
    public string Type => "exact_match";

    public static ExactMatchEvaluator From(SpecReader r) => new(r.Bool("strip", true), r.Bool("ignore_case", false), r.String("value"));

    public Task<EvaluationResult> EvaluateAsync(EvaluationInput input, CancellationToken cancellation)
    {
        var reference = value ?? Reference.AsText(input.GroundTruth);
        if (reference is null) return Task.FromResult(EvaluationResult.Invalid("no reference: the row has no ground_truth and the evaluator no 'value'"));
        var a = strip ? input.Completion.Trim() : input.Completion;
        var b = strip ? reference.Trim() : reference;
        var equal = string.Equals(a, b, ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
        return Task.FromResult(EvaluationResult.Valid(equal ? 1 : 0, equal ? "exact match" : $"expected {Reference.Short(b)}, got {Reference.Short(a)}"));
    }
}

/// <summary>How evaluators read references out of <c>ground_truth</c>.</summary>
public static class Reference
{
    public static string? AsText(JsonNode? node) => node switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => node.ToJsonString(),
    };

    public static string Short(string s) => s.Length <= 60 ? $"'{s}'" : $"'{s[..57]}…'";
}
