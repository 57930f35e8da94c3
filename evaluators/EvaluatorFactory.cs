using System.Text.Json.Nodes;
using Orleans.Rft.Evaluators.BuiltIn;

namespace Orleans.Rft.Evaluators;

/// <summary>Builds an evaluator from its job-spec mapping (<c>type</c> plus that type's options), refusing unknown keys.</summary>
public static class EvaluatorFactory
{
    public static readonly string[] Types = ["exact_match", "numeric", "regex", "contains", "json_schema", "string_similarity", "multi"];

    /// <param name="path">where the mapping sits in the job spec, for error messages (<c>evaluator</c>)</param>
    /// <param name="baseDirectory">folder that relative file paths (schemas) resolve against; null refuses file paths (a silo that may not read its disk)</param>
    public static IEvaluator Create(JsonObject spec, string path, string? baseDirectory)
    {
        var r = new SpecReader(spec, path);
        var type = r.String("type") ?? throw new SpecException(r.At("type"), $"is required; one of {string.Join(", ", Types)}.");
        IEvaluator evaluator = type switch
        {
            "exact_match" => ExactMatchEvaluator.From(r),
            "numeric" => NumericEvaluator.From(r),
            "regex" => RegexEvaluator.From(r),
            "contains" => ContainsEvaluator.From(r),
            "json_schema" => JsonSchemaEvaluator.From(r, baseDirectory),
            "string_similarity" => StringSimilarityEvaluator.From(r),
            "multi" => MultiEvaluator.From(r, baseDirectory),
            _ => throw new SpecException(r.At("type"), $"'{type}' is not a known evaluator; one of {string.Join(", ", Types)}."),
        };
        r.RejectUnknownKeys();
        return evaluator;
    }

    /// <summary>
    /// A copy of the mapping with every file it references read in (<c>json_schema</c>'s
    /// <c>schema: file.json</c>, also inside <c>multi</c>), so that it means the same on a silo that
    /// cannot see the job file's folder. <c>rft submit</c> sends this form.
    /// </summary>
    public static JsonObject WithFilesInlined(JsonObject spec, string path, string baseDirectory)
    {
        var copy = spec.DeepClone().AsObject();
        var type = (copy["type"] as JsonValue)?.TryGetValue<string>(out var t) == true ? t : null;
        if (type == "json_schema" && copy["schema"] is JsonValue v && v.TryGetValue<string>(out var file))
            copy["schema"] = JsonSchemaEvaluator.LoadSchema(Path.Combine(baseDirectory, file), $"{path}.schema");
        if (type == "multi" && copy["evaluators"] is JsonObject subs)
            foreach (var (name, sub) in subs.ToList())
                if (sub is JsonObject o) subs[name] = WithFilesInlined(o, $"{path}.evaluators.{name}", baseDirectory);
        return copy;
    }
}
