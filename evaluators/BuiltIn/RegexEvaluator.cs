using System.Text.RegularExpressions;

namespace Orleans.Rft.Evaluators.BuiltIn;

/// <summary><c>regex</c>: 1 when the completion matches <c>pattern</c> (anywhere, or whole with <c>full_match: true</c>).</summary>
public sealed class RegexEvaluator(Regex pattern, bool fullMatch) : IEvaluator
{
    public string Type => "regex";

    public static RegexEvaluator From(SpecReader r)
    {
        var text = r.RequiredString("pattern");
        var options = r.Bool("ignore_case", false) ? RegexOptions.IgnoreCase : RegexOptions.None;
        try
        {
            return new(new Regex(text, options | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)), r.Bool("full_match", false));
        }
        catch (ArgumentException e) { throw new SpecException(r.At("pattern"), $"is not a valid regular expression ({e.Message})."); }
    }

    public Task<EvaluationResult> EvaluateAsync(EvaluationInput input, CancellationToken cancellation)
    {
        try
        {
            var m = pattern.Match(input.Completion);
            var ok = m.Success && (!fullMatch || (m.Index == 0 && m.Length == input.Completion.Length));
            return Task.FromResult(EvaluationResult.Valid(ok ? 1 : 0, ok ? "pattern matched" : "pattern did not match"));
        }
        catch (RegexMatchTimeoutException)
        {
            return Task.FromResult(EvaluationResult.Invalid("the pattern took over 1 s on this completion"));
        }
    }
}
