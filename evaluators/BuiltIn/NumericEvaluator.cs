using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Orleans.Rft.Evaluators.BuiltIn;

/// <summary>
/// <c>numeric</c>: 1 when the number in the completion is within <c>tolerance</c> (absolute) or
/// <c>relative_tolerance</c> of the reference. <c>extract: full</c> needs the whole completion to be a
/// number; <c>last</c> (default) takes the last number in the text, as GSM8K-style graders do.
/// </summary>
public sealed partial class NumericEvaluator(double tolerance, double relativeTolerance, bool wholeCompletion) : IEvaluator
{
    public string Type => "numeric";

    [GeneratedRegex(@"-?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?|-?\.\d+")]
    private static partial Regex Number();

    public static NumericEvaluator From(SpecReader r)
    {
        var extract = r.String("extract", "last");
        if (extract is not ("last" or "full")) throw new SpecException(r.At("extract"), $"'{extract}' must be 'last' or 'full'.");
        return new(r.Double("tolerance", 0, min: 0), r.Double("relative_tolerance", 0, min: 0), extract == "full");
    }

    public static bool TryParse(string text, out double value) =>
        double.TryParse(text.Replace(",", "").Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    public Task<EvaluationResult> EvaluateAsync(EvaluationInput input, CancellationToken cancellation)
    {
        double expected;
        if (input.GroundTruth is JsonValue v && (v.TryGetValue<double>(out expected) || (v.TryGetValue<string>(out var s) && TryParse(s, out expected)))) { }
        else return Task.FromResult(EvaluationResult.Invalid("ground_truth is not a number"));
        string? found = wholeCompletion ? input.Completion.Trim() : Number().Matches(input.Completion).LastOrDefault()?.Value;
        if (found is null || !TryParse(found, out var actual))
            return Task.FromResult(EvaluationResult.Valid(0, $"no number in the completion {Reference.Short(input.Completion.Trim())}"));
        var diff = Math.Abs(actual - expected);
        var ok = diff <= tolerance || diff <= relativeTolerance * Math.Abs(expected);
        return Task.FromResult(EvaluationResult.Valid(ok ? 1 : 0, ok ? $"{found} matches {expected}" : $"{found} != {expected}"));
    }
}
