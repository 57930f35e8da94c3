using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// <c>GET /v1/rft/openapi.json</c>: an OpenAPI 3.1 document of the <c>/v1/rft</c> routes. Written here rather
/// than generated (Microsoft.AspNetCore.OpenApi): the generator would describe the bodies with the
/// app-wide JSON options (camelCase), not <see cref="RftJson"/>'s snake_case, and has no words for the
/// event stream, the raw-bytes chunk upload or the zip. The schemas are not hand-written: they come from
/// the very records the handlers serialize, through <see cref="JsonSchemaExporter"/> with
/// <see cref="RftJson.Options"/>, so a renamed field changes the document too. A test checks that the
/// document lists every mapped <c>/v1/rft</c> route with its method, and nothing else.
/// </summary>
public static class JobsOpenApi
{
    public const string Path = "/v1/rft/openapi.json";

    sealed record Operation(string Method, string Route, string Summary, string? Request, string Response, int Status = 200, string[]? Query = null, int[]? Errors = null);

    static readonly Operation[] Operations =
    [
        new("get", "/v1/rft/jobs", "List jobs, newest first.", null, nameof(JobList)),
        new("post", "/v1/rft/jobs", "Submit a job: the job file's keys as JSON, inputs as artifact: references (Idempotency-Key header: a retry is the same job).", "JobSpec", nameof(JobSnapshot), 201, Errors: [400, 409, 413]),
        new("get", "/v1/rft/jobs/{id}", "A job's state.", null, nameof(JobSnapshot), Errors: [404]),
        new("get", "/v1/rft/jobs/{id}/metrics", "Step metrics from step `from` on (the most recent 1,000 at most).", null, nameof(MetricsList), Query: ["from"], Errors: [400, 404]),
        new("get", "/v1/rft/jobs/{id}/rollouts", "A step's rollouts: a page (offset, limit ≤ 100) or the best/worst k by reward.", null, nameof(RolloutList), Query: ["step", "offset", "limit", "best", "worst"], Errors: [400, 404]),
        new("get", "/v1/rft/jobs/{id}/events", "Server-sent events: `snapshot` (JobSnapshot), `metrics` ({\"data\": [StepMetrics]}), `end` (final JobSnapshot, then the stream closes), `error`; comment lines as heartbeats.", null, "text/event-stream", Query: ["from"], Errors: [400, 404]),
        new("get", "/v1/rft/jobs/{id}/adapter", "The PEFT adapter folder (adapter_config.json, adapter_model.safetensors) as a zip; default the latest step.", null, "application/zip", Query: ["step"], Errors: [400, 404, 409]),
        new("post", "/v1/rft/jobs/{id}:cancel", "Cancel: applied at the next step boundary.", null, nameof(JobSnapshot), Errors: [404, 409]),
        new("post", "/v1/rft/jobs/{id}:pause", "Pause at the next step boundary.", null, nameof(JobSnapshot), Errors: [404, 409]),
        new("post", "/v1/rft/jobs/{id}:resume", "Resume a paused job.", null, nameof(JobSnapshot), Errors: [404, 409]),
        new("post", "/v1/rft/artifacts", "Start or resume (give `session`) an upload; `received` says where to continue, `stored` that nothing need be sent.", "UploadBegin", nameof(UploadState), Errors: [400, 409, 413]),
        new("put", "/v1/rft/artifacts/{sha256}/sessions/{session}", "Send the bytes from `offset` (at most 4 MiB; application/octet-stream). 409 upload_offset: POST /v1/rft/artifacts again and continue from its `received`.", "application/octet-stream", nameof(UploadProgress), Query: ["offset"], Errors: [400, 409, 413]),
        new("post", "/v1/rft/artifacts/{sha256}/sessions/{session}:complete", "Check size and SHA-256 and store the file; a job names it artifact:sha256/{sha256}/{name}.", null, nameof(UploadState), Errors: [400, 409]),
        new("get", "/v1/rft/deployments", "Deployed adapters.", null, nameof(DeploymentList)),
        new("post", "/v1/rft/deployments", "Serve a job's adapter (latest, or `step`) as model `name` (the same name again replaces it).", "DeploymentRequest", nameof(Deployment), 201, Errors: [400, 404, 409]),
        new("delete", "/v1/rft/deployments/{name}", "Stop serving a deployed model.", null, nameof(UndeployResult), Errors: [404]),
        new("get", Path, "This document.", null, "application/json"),
    ];

    static readonly Dictionary<string, string> QueryDescriptions = new()
    {
        ["from"] = "first step (default 0: all)", ["step"] = "step (default: the latest)", ["offset"] = "first rollout of the page (default 0)",
        ["limit"] = "rollouts in the page, 1–100 (default 20)", ["best"] = "the k highest-reward rollouts, 0–100", ["worst"] = "the k lowest-reward rollouts, 0–100",
    };

    static readonly Lazy<string> Document = new(() => Build().ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));

    public static RouteHandlerBuilder MapJobsOpenApi(this IEndpointRouteBuilder v1) =>
        v1.MapGet(Path["/v1".Length..], () => TypedResults.Text(Document.Value, "application/json"));

    public static JsonObject Build()
    {
        var schemas = new JsonObject();
        foreach (var type in new[] { typeof(JobSnapshot), typeof(JobList), typeof(MetricsList), typeof(RolloutList), typeof(UploadState), typeof(UploadProgress), typeof(Deployment), typeof(DeploymentList), typeof(UndeployResult) })
            schemas[type.Name] = JsonSchemaExporter.GetJsonSchemaAsNode(RftJson.Options, type, Exporter);
        schemas["Error"] = Object(("error", Object(("message", Type("string")), ("type", Type("string")), ("param", Type("string", "null")), ("code", Type("string", "null")))));
        schemas["UploadBegin"] = Object(("sha256", Type("string")), ("size", Type("integer")), ("session", Type("string")));
        schemas["DeploymentRequest"] = Object(("name", Type("string")), ("job_id", Type("string")), ("step", Type("integer")));
        schemas["JobSpec"] = new JsonObject
        {
            ["type"] = "object",
            ["description"] = "The job file's keys (README: job files): name, base_model and dataset (artifact:folder/<sha256>, artifact:sha256/<sha256>/<name>), eval_dataset, evaluator (files inline: source, schema), agent, training, inference, loss, checkpoint, eval_every, seed; and base_model_name, the base's name for listings.",
            ["required"] = new JsonArray("base_model", "dataset", "evaluator"),
        };
        var paths = new JsonObject();
        foreach (var op in Operations)
        {
            var path = paths[op.Route] as JsonObject ?? (JsonObject)(paths[op.Route] = new JsonObject())!;
            var parameters = new JsonArray();
            foreach (var name in System.Text.RegularExpressions.Regex.Matches(op.Route, @"\{(\w+)\}").Select(m => m.Groups[1].Value))
                parameters.Add(new JsonObject { ["name"] = name, ["in"] = "path", ["required"] = true, ["schema"] = Type("string") });
            foreach (var name in op.Query ?? [])
                parameters.Add(new JsonObject { ["name"] = name, ["in"] = "query", ["required"] = name == "offset" && op.Method == "put", ["description"] = name == "offset" && op.Method == "put" ? "where these bytes start in the file" : QueryDescriptions[name], ["schema"] = Type("integer") });
            var responses = new JsonObject { [op.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = Response(op.Response) };
            foreach (var status in (op.Errors ?? []).Append(401))
                responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonObject { ["description"] = "error", ["content"] = Json("Error") };
            var operation = new JsonObject { ["summary"] = op.Summary, ["operationId"] = OperationId(op), ["parameters"] = parameters, ["responses"] = responses };
            if (op.Request is string request)
                operation["requestBody"] = new JsonObject
                {
                    ["required"] = true,
                    ["content"] = request.Contains('/') ? new JsonObject { [request] = new JsonObject { ["schema"] = new JsonObject { ["type"] = "string", ["format"] = "binary" } } } : Json(request),
                };
            path[op.Method] = operation;
        }
        return new JsonObject
        {
            ["openapi"] = "3.1.0",
            ["info"] = new JsonObject
            {
                ["title"] = "Orleans.Rft jobs API", ["version"] = "1",
                ["description"] = "Jobs, artifacts and deployments of an Orleans.Rft cluster. JSON keys are snake_case, enums snake_case names, NaN/Infinity as strings. Errors: {\"error\": {message, type, param, code}}. The OpenAI-compatible routes (/v1/models, /v1/chat/completions, /v1/completions) follow OpenAI's own reference.",
            },
            ["security"] = new JsonArray(new JsonObject { ["bearer"] = new JsonArray() }),
            ["paths"] = paths,
            ["components"] = new JsonObject
            {
                ["securitySchemes"] = new JsonObject { ["bearer"] = new JsonObject { ["type"] = "http", ["scheme"] = "bearer", ["description"] = "a key from the silo's Rft:ApiKeys" } },
                ["schemas"] = schemas,
            },
        };
    }

    /// <summary>
    /// The exporter writes a <c>double?</c> under <see cref="RftJson"/>'s named literals as
    /// <c>anyOf: [number, "NaN"…]</c> and drops its null, so the document refused the answers' own
    /// <c>"latest_eval_reward": null</c>; a nullable value type gets its null back here.
    /// </summary>
    static readonly JsonSchemaExporterOptions Exporter = new()
    {
        TransformSchemaNode = (context, node) =>
        {
            if (Nullable.GetUnderlyingType(context.TypeInfo.Type) is null || node is not JsonObject schema || schema["anyOf"] is not JsonArray anyOf) return node;
            if (!anyOf.Any(s => s?["type"]?.ToJsonString() is "\"null\"")) anyOf.Add(new JsonObject { ["type"] = "null" });
            return node;
        },
    };

    static JsonObject Response(string response) => new()
    {
        ["description"] = "OK",
        ["content"] = response.Contains('/') ? new JsonObject { [response] = new JsonObject() } : Json(response),
    };

    static JsonObject Json(string schema) => new() { ["application/json"] = new JsonObject { ["schema"] = new JsonObject { ["$ref"] = $"#/components/schemas/{schema}" } } };

    static JsonObject Type(params string[] types) => new() { ["type"] = types.Length == 1 ? types[0] : new JsonArray(types.Select(t => (JsonNode)t).ToArray()) };

    static JsonObject Object(params (string Name, JsonObject Schema)[] properties) => new()
    {
        ["type"] = "object",
        ["properties"] = new JsonObject(properties.Select(p => KeyValuePair.Create(p.Name, (JsonNode?)p.Schema))),
    };

    static string OperationId(Operation op) =>
        op.Method + string.Concat(op.Route["/v1/rft".Length..].Split('/', '{', '}', ':', '.').Where(s => s.Length > 0).Select(s => char.ToUpperInvariant(s[0]) + s[1..]));
}
