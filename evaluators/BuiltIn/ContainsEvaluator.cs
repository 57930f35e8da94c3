namespace Orleans.Rft.Evaluators.BuiltIn;

/// <summary><c>contains</c>: 1 when the completion contains <c>value</c> (default: the ground truth as text).</summary>
public sealed class ContainsEvaluator(string? value, bool ignoreCase) : IEvaluator
{
    public string Type => "contains";

    public static ContainsEvaluator From(SpecReader r) => new(r.String("value"), r.Bool("ignore_case", false));

    public Task<EvaluationResult> EvaluateAsync(EvaluationInput input, CancellationToken cancellation)
    {
        var needle = value ?? Reference.AsText(input.GroundTruth);
        if (string.IsNullOrEmpty(needle)) return Task.FromResult(EvaluationResult.Invalid("nothing to look for: no 'value' and no ground_truth"));
        var ok = input.Completion.Contains(needle, ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
        return Task.FromResult(EvaluationResult.Valid(ok ? 1 : 0, ok ? $"contains {Reference.Short(needle)}" : $"does not contain {Reference.Short(needle)}"));
    }
}
