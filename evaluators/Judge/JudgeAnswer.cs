using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Orleans.Rft.Evaluators.Judge;

/// <summary>
/// Reads a judge's text. <c>number</c>: the whole answer when it is a number, else the first number after
/// the last "score", else the first number in the text. <c>json</c>: an object with <c>score</c> (and
/// optional <c>reason</c>), also inside a code fence or surrounded by prose. Groupwise: a JSON list, or an
/// object with <c>scores</c>, of one number per response. Scores are scaled from <c>score_range</c> to
/// [0, 1]; an answer that cannot be read, or a score outside the range, is invalid with the judge's text.
/// </summary>
public static partial class JudgeAnswer
{
    [GeneratedRegex(@"-?\d+(?:\.\d+)?")]
    private static partial Regex Number();

    public static EvaluationResult Pointwise(string text, bool json, double min, double max)
    {
        double? raw;
        string? reason = null;
        if (json)
        {
            var o = JsonIn(text) as JsonObject;
            raw = o?["score"] is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;
            reason = o?["reason"] is JsonValue r && r.TryGetValue<string>(out var s) ? s : null;
        }
        else raw = FirstNumber(text);
        if (raw is null) return EvaluationResult.Invalid($"the judge's answer has no {(json ? "JSON score" : "number")}: {Short(text)}");
        return Scaled(raw.Value, min, max, reason ?? Short(text), text);
    }

    public static IReadOnlyList<EvaluationResult> Groupwise(string text, int count, double min, double max)
    {
        var node = JsonIn(text);
        var list = node as JsonArray ?? (node as JsonObject)?["scores"] as JsonArray;
        var scores = list?.Select(x => x is JsonValue v && v.TryGetValue<double>(out var d) ? d : (double?)null).ToList();
        if (scores is null || scores.Count != count || scores.Any(s => s is null))
            return Enumerable.Repeat(EvaluationResult.Invalid($"the judge's answer is not a JSON list of {count} scores: {Short(text)}"), count).ToList();
        return scores.Select((s, i) => Scaled(s!.Value, min, max, $"rank score {s} of response {i + 1}", text)).ToList();
    }

    static EvaluationResult Scaled(double raw, double min, double max, string reason, string text) =>
        raw < min || raw > max || double.IsNaN(raw)
            ? EvaluationResult.Invalid($"the judge's score {raw} is outside score_range [{min}, {max}]: {Short(text)}")
            : EvaluationResult.Valid((raw - min) / (max - min), $"judge {raw.ToString(CultureInfo.InvariantCulture)} in [{min}, {max}]: {reason}");

    static double? FirstNumber(string text)
    {
        var trimmed = text.Trim();
        if (double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var whole)) return whole;
        var at = trimmed.LastIndexOf("score", StringComparison.OrdinalIgnoreCase);
        var match = (at >= 0 ? Number().Match(trimmed, at) : Match.Empty) is { Success: true } m ? m : Number().Match(trimmed);
        return match.Success ? double.Parse(match.Value, CultureInfo.InvariantCulture) : null;
    }

    /// <summary>The JSON value in a judge's text: the whole text, a fenced block, or the span from the first '{' or '[' to its last partner.</summary>
    static JsonNode? JsonIn(string text)
    {
        var t = text.Trim();
        if (t.StartsWith("```"))
        {
            var start = t.IndexOf('\n');
            var end = t.LastIndexOf("```", StringComparison.Ordinal);
            if (start > 0 && end > start) t = t[(start + 1)..end].Trim();
        }
        foreach (var candidate in new[] { t, Span(t, '{', '}'), Span(t, '[', ']') })
        {
            if (candidate is null) continue;
            try { return JsonNode.Parse(candidate); }
            catch (System.Text.Json.JsonException) { }
        }
        return null;
    }

    static string? Span(string t, char open, char close)
    {
        int a = t.IndexOf(open), b = t.LastIndexOf(close);
        return a >= 0 && b > a ? t[a..(b + 1)] : null;
    }

    static string Short(string s)
    {
        s = s.Replace('\n', ' ').Trim();
        return s.Length <= 300 ? s : s[..297] + "…";
    }
}
