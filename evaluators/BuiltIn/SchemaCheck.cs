using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Orleans.Rft.Evaluators.BuiltIn;

/// <summary>
/// A JSON Schema built once with JsonSchema.Net (draft 2020-12 unless the schema's <c>$schema</c> says
/// otherwise; <c>$ref</c> within the schema; <c>format</c> asserted). The schema is first checked against
/// its meta-schema, so a schema with a wrong keyword value (a <c>pattern</c> that is not a regex, a type
/// name misspelled) fails the job's validation naming the field, instead of scoring every rollout as an
/// evaluator error. Each build has its own registry: specs never see each other's <c>$id</c>s, and
/// nothing is fetched over the network (a remote <c>$ref</c> is a spec error).
/// </summary>
public sealed class SchemaCheck
{
    /// <summary>Errors shown in a reason; a deeply wrong answer can have hundreds.</summary>
    const int ShownErrors = 3;

    static readonly EvaluationOptions Options = new() { OutputFormat = OutputFormat.List, RequireFormatValidation = true };
    readonly JsonSchema schema;

    SchemaCheck(JsonSchema schema) => this.schema = schema;

    /// <param name="at">where the schema sits in the job spec (<c>evaluator.schema</c>), for errors</param>
    public static SchemaCheck Compile(JsonObject spec, string at)
    {
        // Cloned out of its document: the built schema keeps the elements it was built from.
        var root = JsonDocument.Parse(spec.ToJsonString()).RootElement.Clone();
        var problems = MetaCheck(root);
        if (problems is { } p) throw new SpecException(at + p.Path, $"{p.Message}; fix the schema (JSON Schema draft 2020-12).");
        try
        {
            var options = new BuildOptions { SchemaRegistry = new SchemaRegistry() };
            return new SchemaCheck(JsonSchema.Build(root, options, new Uri($"https://rft.invalid/schema/{Guid.NewGuid():N}")));
        }
        catch (Exception e) when (e is JsonSchemaException or RefResolutionException or JsonException or ArgumentException or InvalidOperationException or NotSupportedException)
        {
            throw new SpecException(at, $"is not a usable JSON Schema: {e.Message}");
        }
    }


    /// <summary>The first meta-schema violation as (spec path suffix, message), or null when the schema is well-formed.</summary>
    static (string Path, string Message)? MetaCheck(JsonElement schema)
    {
        var results = MetaSchemas.Draft202012.Evaluate(schema, Options);
        if (results.IsValid) return null;
        // The deepest place with errors is the value to fix; all its messages, since a keyword like
        // `type` (a name or a list of names) fails each alternative with its own message.
        var failed = (results.Details ?? []).Where(d => d.Errors is { Count: > 0 }).ToList();
        if (failed.Count == 0) return ("", "is not a valid JSON Schema");
        var deepest = failed.MaxBy(d => d.InstanceLocation.ToString().Length)!.InstanceLocation.ToString();
        var messages = failed.Where(d => d.InstanceLocation.ToString() == deepest).SelectMany(d => d.Errors!.Values).Distinct();
        return (SpecPath(deepest), string.Join("; or ", messages));
    }

    /// <summary>A JSON Pointer (<c>/properties/a/pattern</c>) as a spec path suffix (<c>.properties.a.pattern</c>, <c>.anyOf[1]</c>).</summary>
    static string SpecPath(string pointer) =>
        string.Concat(pointer.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(s => int.TryParse(s, out var i) ? $"[{i}]" : "." + s.Replace("~1", "/").Replace("~0", "~")));

    /// <summary>Null when <paramref name="value"/> is valid; else its first errors with their paths.</summary>
    public string? Validate(JsonNode? value)
    {
        using var document = JsonDocument.Parse(value?.ToJsonString() ?? "null");
        EvaluationResults results;
        try { results = schema.Evaluate(document.RootElement, Options); }
        catch (RefResolutionException e) { return $"the schema's $ref cannot be resolved ({e.Message}); only references inside the schema ($defs) are followed"; }
        if (results.IsValid) return null;
        var errors = (results.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{(d.InstanceLocation.ToString() is { Length: > 0 } l ? "$" + SpecPath(l) : "$")}: {e.Value}"))
            .Distinct().ToList();
        if (errors.Count == 0) return "does not match the schema";
        return string.Join("; ", errors.Take(ShownErrors)) + (errors.Count > ShownErrors ? $" (+{errors.Count - ShownErrors} more)" : "");
    }
}
