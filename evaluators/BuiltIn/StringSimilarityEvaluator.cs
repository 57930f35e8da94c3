namespace Orleans.Rft.Evaluators.BuiltIn;

/// <summary>
/// <c>string_similarity</c>: the Levenshtein ratio <c>1 − distance / max(|a|, |b|)</c> between the
/// (trimmed, optionally lower-cased) completion and reference, in [0, 1]. Each side is at most
/// <see cref="EvaluationLimits.MaxSimilarityChars"/> characters; a longer one scores invalid with the reason.
/// </summary>
public sealed class StringSimilarityEvaluator(bool ignoreCase) : IEvaluator
{
    public string Type => "string_similarity";

    public static StringSimilarityEvaluator From(SpecReader r) => new(r.Bool("ignore_case", false));

    public static double Ratio(string a, string b, CancellationToken cancellation = default)
    {
        if (a.Length == 0 && b.Length == 0) return 1;
        return 1.0 - (double)EditDistance.Levenshtein(a, b, cancellation) / Math.Max(a.Length, b.Length);
    }

    public Task<EvaluationResult> EvaluateAsync(EvaluationInput input, CancellationToken cancellation)
    {
        var reference = Reference.AsText(input.GroundTruth);
        if (reference is null) return Task.FromResult(EvaluationResult.Invalid("the row has no ground_truth"));
        string a = input.Completion.Trim(), b = reference.Trim();
        if (Math.Max(a.Length, b.Length) > EvaluationLimits.MaxSimilarityChars)
            return Task.FromResult(EvaluationResult.Invalid(
                $"string_similarity compares at most {EvaluationLimits.MaxSimilarityChars:N0} characters a side (completion {a.Length:N0}, reference {b.Length:N0}); use exact_match or contains for long texts"));
        if (ignoreCase) { a = a.ToLowerInvariant(); b = b.ToLowerInvariant(); }
        var ratio = Ratio(a, b, cancellation);
        return Task.FromResult(EvaluationResult.Valid(ratio, $"similarity {ratio:F3}"));
    }
}
