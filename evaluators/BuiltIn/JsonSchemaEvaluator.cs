using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Evaluators.BuiltIn;

/// <summary>
/// <c>json_schema</c>: the completion must be JSON (a fenced <c>```json</c> block is accepted) that
/// validates against <c>schema</c>; then the score is the share of <c>match_fields</c> (default: every
/// key of an object ground truth) whose values equal the ground truth. Invalid JSON or a schema
/// violation scores 0 with the reason.
/// </summary>
public sealed class JsonSchemaEvaluator(JsonObject? schema, IReadOnlyList<string>? matchFields) : IEvaluator
{
    public string Type => "json_schema";

    public static JsonSchemaEvaluator From(SpecReader r, string baseDirectory)
    {
        JsonObject? schema = r.Raw("schema") switch
        {
            null => null,
            JsonObject o => o,
            JsonValue v when v.TryGetValue<string>(out var file) => LoadSchema(Path.Combine(baseDirectory, file), r.At("schema")),
            _ => throw new SpecException(r.At("schema"), "must be a JSON Schema object or the path of a .json file."),
        };
        return new(schema, r.StringList("match_fields"));
    }

    internal static JsonObject LoadSchema(string path, string at)
    {
        if (!File.Exists(path)) throw new SpecException(at, $"schema file '{path}' does not exist.");
        try { return JsonNode.Parse(File.ReadAllText(path))!.AsObject(); }
        catch (Exception e) { throw new SpecException(at, $"'{path}' is not a JSON object ({e.Message})."); }
    }

    public Task<EvaluationResult> EvaluateAsync(EvaluationInput input, CancellationToken cancellation)
    {
        var text = StripFence(input.Completion.Trim());
        JsonNode? value;
        try { value = JsonNode.Parse(text); }
        catch (JsonException e)
        {
            return Task.FromResult(EvaluationResult.Valid(0, $"not valid JSON: {e.Message}", Metric("valid_json", 0, e.Message)));
        }
        var metrics = new Dictionary<string, MetricResult> { ["valid_json"] = new(1, true, "parsed") };
        if (schema is not null && JsonSchemaValidator.Validate(value, schema) is string violation)
        {
            metrics["schema"] = new(0, true, violation);
            return Task.FromResult(EvaluationResult.Valid(0, $"schema: {violation}", metrics));
        }
        metrics["schema"] = new(1, true, schema is null ? "no schema given" : "valid");
        var fields = matchFields ?? (input.GroundTruth as JsonObject)?.Select(kv => kv.Key).ToList() ?? [];
        if (fields.Count == 0) return Task.FromResult(EvaluationResult.Valid(1, "valid JSON", metrics));
        if (input.GroundTruth is not JsonObject truth)
            return Task.FromResult(EvaluationResult.Invalid("match_fields needs an object ground_truth"));
        int matched = 0;
        foreach (var field in fields)
        {
            var ok = value is JsonObject o && JsonNode.DeepEquals(o[field], truth[field]);
            if (ok) matched++;
            metrics[$"field.{field}"] = new(ok ? 1 : 0, true, ok ? "matches" : $"expected {truth[field]?.ToJsonString() ?? "null"}");
        }
        return Task.FromResult(EvaluationResult.Valid((double)matched / fields.Count, $"{matched}/{fields.Count} fields match", metrics));
    }

    static Dictionary<string, MetricResult> Metric(string name, double score, string reason) => new() { [name] = new(score, true, reason) };

    static string StripFence(string text)
    {
        if (!text.StartsWith("```")) return text;
        var start = text.IndexOf('\n');
        var end = text.LastIndexOf("```", StringComparison.Ordinal);
        return start > 0 && end > start ? text[(start + 1)..end].Trim() : text;
    }
}
