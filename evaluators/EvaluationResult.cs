using System.Text.Json.Nodes;

namespace Orleans.Rft.Evaluators;

/// <summary>One named sub-score (Fireworks' <c>MetricResult</c> shape).</summary>
public sealed record MetricResult(double Score, bool IsScoreValid, string Reason);

/// <summary>
/// What an evaluator says about one rollout, in the shape of Fireworks' <c>EvaluateResult</c>:
/// <c>score</c> in [0, 1], <c>is_score_valid</c>, <c>reason</c>, named <c>metrics</c>.
/// </summary>
public sealed record EvaluationResult(double Score, bool IsScoreValid, string Reason, IReadOnlyDictionary<string, MetricResult>? Metrics = null)
{
    public static EvaluationResult Valid(double score, string reason, IReadOnlyDictionary<string, MetricResult>? metrics = null) => new EvaluationResult(score, true, reason, metrics).Checked();
    public static EvaluationResult Invalid(string reason) => new(0, false, reason);

    /// <summary>
    /// A score that is NaN or outside [0, 1] makes the result invalid (with the reason saying so);
    /// it is never clipped silently.
    /// </summary>
    public EvaluationResult Checked()
    {
        if (!IsScoreValid) return this;
        if (double.IsNaN(Score) || Score < 0 || Score > 1)
            return this with { IsScoreValid = false, Reason = $"score {Score} is outside [0, 1]; the evaluator must return a score in range ({Reason})" };
        return this;
    }

    public JsonObject ToJson()
    {
        var o = new JsonObject { ["score"] = Score, ["is_score_valid"] = IsScoreValid, ["reason"] = Reason };
        if (Metrics is { Count: > 0 })
            o["metrics"] = new JsonObject(Metrics.Select(m => KeyValuePair.Create(m.Key, (JsonNode?)new JsonObject
            {
                ["score"] = m.Value.Score, ["is_score_valid"] = m.Value.IsScoreValid, ["reason"] = m.Value.Reason,
            })));
        return o;
    }

    /// <summary>
    /// Reads an <c>EvaluateResult</c>-shaped JSON object (from a subprocess, an HTTP grader or a judge).
    /// A field of the wrong type makes the result invalid with the field named, never an exception: the
    /// text comes from outside the process.
    /// </summary>
    public static EvaluationResult FromJson(JsonNode? node)
    {
        if (node is not JsonObject o || o["score"] is not JsonValue s || !s.TryGetValue<double>(out var score))
            return Invalid($"the evaluator's answer has no numeric 'score': {Short(node?.ToJsonString() ?? "null")}");
        if (!Flag(o["is_score_valid"], out var valid)) return Invalid("the evaluator's 'is_score_valid' is not true or false");
        var reason = o["reason"] switch { null => "", JsonValue r when r.TryGetValue<string>(out var t) => t, var other => other.ToJsonString() };
        Dictionary<string, MetricResult>? metrics = null;
        if (o["metrics"] is JsonObject m)
        {
            metrics = new();
            foreach (var (name, v) in m)
            {
                var ms = v?["score"] is JsonValue sv && sv.TryGetValue<double>(out var d) ? d : double.NaN;
                var mv = Flag(v?["is_score_valid"], out var f) && f && !double.IsNaN(ms);
                var mr = v?["reason"] is JsonValue rv && rv.TryGetValue<string>(out var text) ? text : "";
                metrics[name] = new MetricResult(double.IsNaN(ms) ? 0 : ms, mv, mr);
            }
        }
        return new EvaluationResult(score, valid, reason, metrics).Checked();
    }

    /// <summary>A JSON bool, true when absent.</summary>
    static bool Flag(JsonNode? node, out bool value)
    {
        value = true;
        return node is null || node is JsonValue v && v.TryGetValue(out value);
    }

    static string Short(string s) => s.Length <= 200 ? s : s[..197] + "…";
}
