using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Orleans.Rft.Evaluators.BuiltIn;

/// <summary>
/// <c>json_schema</c>: the completion must be JSON (a fenced <c>```json</c> block is accepted) that
/// validates against <c>schema</c> (JsonSchema.Net: full draft 2020-12 with <c>$ref</c>/<c>$defs</c> and
/// formats; the first errors with their instance paths are the reason); then the score is the share of <c>match_fields</c> (default: every
/// key of an object ground truth) whose values equal the ground truth. Invalid JSON or a schema
/// violation scores 0 with the reason.
/// </summary>
public sealed class JsonSchemaEvaluator(SchemaCheck? schema, IReadOnlyList<string>? matchFields) : IEvaluator
{
    public string Type => "json_schema";

    /// <param name="baseDirectory">where a schema file is read from; null where files may not be read (a cluster's silo)</param>
    public static JsonSchemaEvaluator From(SpecReader r, string? baseDirectory)
    {
        JsonObject? schema = r.Raw("schema") switch
        {
            null => null,
            JsonObject o => o,
            JsonValue v when v.TryGetValue<string>(out var file) => baseDirectory is null
                ? throw new SpecException(r.At("schema"), "names a file, and this cluster's silos do not read files from their disks; inline the schema in the job file (rft submit does this for you), or let the silos read local paths with Rft:AllowLocalPaths=true.")
                : LoadSchema(Path.Combine(baseDirectory, file), r.At("schema")),
            _ => throw new SpecException(r.At("schema"), "must be a JSON Schema object or the path of a .json file."),
        };
        return new(schema is null ? null : SchemaCheck.Compile(schema, r.At("schema")), r.StringList("match_fields"));
    }

    /// <summary>Reads a schema file; an error names the file and the line, never its contents (the path may name a file that is not a schema at all).</summary>
    internal static JsonObject LoadSchema(string path, string at)
    {
        if (!File.Exists(path)) throw new SpecException(at, $"schema file '{path}' does not exist.");
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new SpecException(at, $"'{path}' is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}); give a JSON Schema object."); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new SpecException(at, $"'{path}' cannot be read ({e.GetType().Name}); give a readable JSON Schema file."); }
        return node as JsonObject ?? throw new SpecException(at, $"'{path}' holds JSON that is not an object; give a JSON Schema object.");
    }

    public Task<EvaluationResult> EvaluateAsync(EvaluationInput input, CancellationToken cancellation)
    {
        var text = StripFence(input.Completion.Trim());
        JsonNode? value;
        try { value = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 256 }); }
        catch (JsonException e)
        {
            return Task.FromResult(EvaluationResult.Valid(0, $"not valid JSON: {e.Message}", Metric("valid_json", 0, e.Message)));
        }
        var metrics = new Dictionary<string, MetricResult> { ["valid_json"] = new(1, true, "parsed") };
        if (schema?.Validate(value) is string violation)
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
