using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Agents.Remote;

/// <summary>
/// A remote rollout's status as Eval Protocol reports it: the body of <c>GET {agent}/status</c> and of a
/// push to <c>/rollouts/{id}/status</c> (<c>{terminated, info, status{code, message, details}}</c>), or the
/// <c>status</c> of a structured log line. Codes follow AIP-193 (google.rpc.Code: 0 OK, 1–16 errors) plus
/// Eval Protocol's own 100 finished, 101 running, 102 score invalid.
/// </summary>
public sealed record RolloutStatus(bool Terminated, int? Code, string Message, JsonArray Details, JsonObject? Info)
{
    public const int Ok = 0, Finished = 100, Running = 101, ScoreInvalid = 102;

    /// <summary>google.rpc.Code names, for reasons people read.</summary>
    static readonly string[] GrpcNames =
    [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ];

    /// <summary>A pushed status ends the rollout when it says so, or carries a code other than "running".</summary>
    public bool IsFinal => Terminated || Code is int c && c != Running;

    /// <summary>0, 100 and no code at all: the agent finished normally.</summary>
    public bool IsSuccess => Code is null or Ok or Finished;

    public static string CodeName(int code) => code switch
    {
        >= 0 and <= 16 => GrpcNames[code],
        Finished => "FINISHED",
        Running => "RUNNING",
        ScoreInvalid => "SCORE_INVALID",
        _ => "not an AIP-193 or Eval Protocol code",
    };

    /// <summary>
    /// Reads <c>{terminated, info, status}</c>; anything else is a <see cref="FormatException"/> saying what
    /// was wrong (the rollout then fails as <c>bad_status</c>). <c>terminated</c> may be left out of a push.
    /// </summary>
    public static RolloutStatus ParseBody(JsonNode? body, bool terminatedRequired)
    {
        if (body is not JsonObject o) throw new FormatException($"the body is {Describe(body)}, not a JSON object {{terminated, info, status}}");
        bool terminated = o["terminated"] switch
        {
            null when !terminatedRequired => false,
            JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
            var other => throw new FormatException($"'terminated' is {Describe(other)}; it must be true or false"),
        };
        var info = o["info"] switch
        {
            null => null,
            JsonObject i => i,
            var other => throw new FormatException($"'info' is {Describe(other)}; it must be an object"),
        };
        var (code, message, details) = ParseStatus(o["status"], "status");
        return new RolloutStatus(terminated, code, message, details, info);
    }

    /// <summary>
    /// Reads a <c>status</c> object: <c>{code, message, details}</c>, or the spelling Eval Protocol's tracing
    /// log handler sends (<c>{status_code, status_message, status_details}</c>); null reads as no status.
    /// </summary>
    public static (int? Code, string Message, JsonArray Details) ParseStatus(JsonNode? node, string field)
    {
        if (node is null) return (null, "", new JsonArray());
        if (node is not JsonObject s) throw new FormatException($"'{field}' is {Describe(node)}; it must be an object {{code, message, details}}");
        var codeNode = s["code"] ?? s["status_code"];
        int? code = codeNode switch
        {
            null => null,
            JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var c) => c,
            var other => throw new FormatException($"'{field}.code' is {Describe(other)}; it must be an integer AIP-193 code"),
        };
        if (code is int k && CodeName(k).StartsWith("not ", StringComparison.Ordinal))
            throw new FormatException($"'{field}.code' is {k}, which is {CodeName(k)} (0 OK, 1–16 gRPC errors, 100 finished, 101 running, 102 score invalid)");
        var messageNode = s["message"] ?? s["status_message"];
        string message = messageNode switch
        {
            null => "",
            JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
            var other => throw new FormatException($"'{field}.message' is {Describe(other)}; it must be a string"),
        };
        var detailsNode = s["details"] ?? s["status_details"];
        var details = detailsNode switch
        {
            null => new JsonArray(),
            JsonArray a => (JsonArray)a.DeepClone(),
            var other => throw new FormatException($"'{field}.details' is {Describe(other)}; it must be a list"),
        };
        return (code, message, details);
    }

    /// <summary>
    /// The agent's own score: <c>info.score</c>, else the <c>score</c> in the metadata of an AIP-193
    /// ErrorInfo detail (Eval Protocol's <c>EXTRA_INFO</c>), which is where a status sent through logs can carry it.
    /// </summary>
    public (double? Score, string? Reason) Reported()
    {
        double? score = Number(Info?["score"]);
        string? reason = Text(Info?["reason"]);
        foreach (var d in Details)
            if (d is JsonObject detail && detail["metadata"] is JsonObject meta)
            {
                score ??= Number(meta["score"]);
                reason ??= Text(meta["reason"]);
            }
        if (Code == ScoreInvalid) return (null, $"the agent reported its score invalid (102){(Message.Length > 0 ? ": " + Message : "")}");
        return (score, reason);
    }

    /// <summary>How the rollout ended, for its record: <c>FINISHED (100): done</c>.</summary>
    public string Describe() => Code is int c ? $"{CodeName(c)} ({c}){(Message.Length > 0 ? ": " + Message : "")}" : Message.Length > 0 ? Message : "no status";

    static double? Number(JsonNode? n) => n is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<double>(out var d) && double.IsFinite(d) ? d : null;
    static string? Text(JsonNode? n) => n is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    /// <summary>What a value is, shortened: garbage from an agent is quoted, never echoed whole.</summary>
    public static string Describe(JsonNode? node)
    {
        if (node is null) return "null";
        var json = node.ToJsonString();
        return $"{node.GetValueKind().ToString().ToLowerInvariant()} {(json.Length > 80 ? json[..80] + "…" : json)}";
    }
}
