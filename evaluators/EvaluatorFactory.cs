using System.Text.Json.Nodes;
using Orleans.Rft.Evaluators.BuiltIn;
using Orleans.Rft.Evaluators.Http;
using Orleans.Rft.Evaluators.Judge;
using Orleans.Rft.Evaluators.Python;

namespace Orleans.Rft.Evaluators;

/// <summary>Builds an evaluator from its job-spec mapping (<c>type</c> plus that type's options), refusing unknown keys.</summary>
public static class EvaluatorFactory
{
    public static readonly string[] Types = ["exact_match", "numeric", "regex", "contains", "json_schema", "string_similarity", "multi", "python", "http", "judge", "agent_reported"];

    /// <param name="path">where the mapping sits in the job spec, for error messages (<c>evaluator</c>)</param>
    /// <param name="baseDirectory">folder that relative file paths (schemas) resolve against; null refuses file paths (a silo that may not read its disk)</param>
    /// <param name="cluster">the silo's own endpoint, for a judge without base_url; null where the spec is only checked before a silo builds it</param>
    public static IEvaluator Create(JsonObject spec, string path, string? baseDirectory, ClusterEndpoint? cluster = null)
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
            "multi" => MultiEvaluator.From(r, baseDirectory, cluster),
            "python" => PythonEvaluator.From(r, baseDirectory),
            "http" => HttpEvaluator.From(r),
            "judge" => JudgeEvaluator.From(r, cluster),
            "agent_reported" => AgentReportedEvaluator.From(r),
            _ => throw new SpecException(r.At("type"), $"'{type}' is not a known evaluator; one of {string.Join(", ", Types)}."),
        };
        r.RejectUnknownKeys();
        return evaluator;
    }

    /// <summary>
    /// A copy of the mapping with every file it references read in (<c>json_schema</c>'s
    /// <c>schema: file.json</c>, also inside <c>multi</c>), so that it means the same on a silo that
    /// cannot see the job file's folder; a <c>python</c> file's text goes into <c>source</c> (the
    /// <c>path</c> stays, naming the file in errors). <c>rft submit</c> sends this form.
    /// </summary>
    public static JsonObject WithFilesInlined(JsonObject spec, string path, string baseDirectory)
    {
        var copy = spec.DeepClone().AsObject();
        var type = (copy["type"] as JsonValue)?.TryGetValue<string>(out var t) == true ? t : null;
        if (type == "json_schema" && copy["schema"] is JsonValue v && v.TryGetValue<string>(out var file))
            copy["schema"] = JsonSchemaEvaluator.LoadSchema(Path.Combine(baseDirectory, file), $"{path}.schema");
        if (type == "python" && copy["source"] is null && copy["path"] is JsonValue p && p.TryGetValue<string>(out var reward))
            copy["source"] = ReadSource(Path.Combine(baseDirectory, reward), $"{path}.path");
        if (type == "multi" && copy["evaluators"] is JsonObject subs)
            foreach (var (name, sub) in subs.ToList())
                if (sub is JsonObject o) subs[name] = WithFilesInlined(o, $"{path}.evaluators.{name}", baseDirectory);
        return copy;
    }

    /// <summary>
    /// The mapping with <c>{job_id}</c> in a judge's <c>model</c> (also inside <c>multi</c>) replaced by the
    /// job's id, which is chosen at submission: <c>model: jobs/{job_id}</c> lets a job's policy judge its
    /// own rollouts through the cluster's endpoint. Other text is left as it is.
    /// </summary>
    public static string WithJobId(string evaluatorJson, string jobId)
    {
        if (!evaluatorJson.Contains("{job_id}")) return evaluatorJson;
        var spec = JsonNode.Parse(evaluatorJson)!.AsObject();
        Resolve(spec);
        return spec.ToJsonString();

        void Resolve(JsonObject o)
        {
            var type = (o["type"] as JsonValue)?.TryGetValue<string>(out var t) == true ? t : null;
            if (type == "judge" && o["model"] is JsonValue m && m.TryGetValue<string>(out var model))
                o["model"] = model.Replace("{job_id}", jobId);
            if (type == "multi" && o["evaluators"] is JsonObject subs)
                foreach (var (_, sub) in subs)
                    if (sub is JsonObject part) Resolve(part);
        }
    }

    static string ReadSource(string file, string at)
    {
        if (!File.Exists(file)) throw new SpecException(at, $"'{file}' does not exist; give the Python file with the reward function, relative to the job file.");
        if (new FileInfo(file).Length > PythonEvaluator.MaxSourceBytes)
            throw new SpecException(at, $"'{file}' is over {PythonEvaluator.MaxSourceBytes / 1024} KiB; keep the reward file small and import helpers the silo's Python has.");
        return File.ReadAllText(file);
    }
}
