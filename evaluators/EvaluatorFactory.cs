using System.Text.Json.Nodes;
using Orleans.Rft.Evaluators.BuiltIn;

namespace Orleans.Rft.Evaluators;

/// <summary>Builds an evaluator from its job-spec mapping (<c>type</c> plus that type's options), refusing unknown keys.</summary>
public static class EvaluatorFactory
{
    public static readonly string[] Types = ["exact_match", "numeric", "regex", "contains", "json_schema", "string_similarity", "multi"];

    /// <param name="path">where the mapping sits in the job spec, for error messages (<c>evaluator</c>)</param>
    /// <param name="baseDirectory">folder that relative file paths (schemas) resolve against</param>
    public static IEvaluator Create(JsonObject spec, string path, string baseDirectory)
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
}
