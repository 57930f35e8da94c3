using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans.Rft.Agents.Remote;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// Eval Protocol's structured-log push (what its tracing log handler sends to <c>{gateway}/logs</c>, and
/// to <c>/v1/logs</c> after a 404): <c>{program, status, message, tags: ["rollout_id:…", …], extras}</c>.
/// The first line for a live rollout whose status carries a code other than 101 (running) ends that
/// rollout with it; <c>extras</c> plays the part of the status's <c>info</c>. The agent's score is where
/// Eval Protocol's stock handler puts it, in the metadata of the status detail whose reason is <c>EXTRA_INFO</c>
/// (or <c>extras.score</c>, for handlers that send it there). Lines without a status, for ended or unknown rollouts, are accepted and dropped: this
/// silo keeps no log store.
/// <para>Authorisation: the token of every rollout the line names, or an agent log key
/// (<c>Rft:AgentLogKeys</c>). The tracing handler sends one key per process (<c>FIREWORKS_API_KEY</c>) while an
/// agent server runs many rollouts, so an agent server that pushes logs is given an agent log key; the rollout
/// token works for one-rollout processes. The serving keys (<c>Rft:ApiKeys</c>) are not taken: a log line ends
/// rollouts of any job and, with <c>agent_reported</c>, sets their rewards, which calling the model must not
/// allow. With no keys configured at all (neither setting) the endpoint is loopback-only and takes any line,
/// like <c>/v1</c>. A refused line ends nothing. The caller is checked from its headers before the body is read
/// (a key, or a token some live rollout takes), and a body over <see cref="MaxBodyBytes"/> is refused with 413.
/// A line must reach the silo that runs its rollout: lines are not forwarded between silos.</para>
/// </summary>
public static class RolloutLogsApi
{
    /// <summary>Tags one line may carry (a groupwise line names each of its rollouts): a named bound.</summary>
    public const int MaxTags = 256;

    /// <summary>The largest log line or pushed rollout status taken (64 KiB): they are a few hundred bytes; more is refused with 413 unparsed.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    public static void MapRolloutLogsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/logs", PushAsync).AddEndpointFilter((context, next) => OpenAIErrors.Filter(context, next));
        app.MapPost("/v1/logs", PushAsync).AddEndpointFilter((context, next) => OpenAIErrors.Filter(context, next));
    }

    static async Task<IResult> PushAsync(HttpContext http, RemoteRolloutRegistry registry, ApiKeys keys, AgentLogKeys logKeys)
    {
        // Who calls is settled from the headers before the body is read: an anonymous caller costs no parsing.
        var authorization = http.Request.Headers.Authorization.ToString();
        bool open = !keys.Required && !logKeys.Configured; // no keys at all: the endpoint listens on loopback only
        bool byKey = open || logKeys.Accepts(authorization);
        if (!byKey && !registry.AnyTakes(authorization)) return Refused();

        var body = await RequestFields.ReadBodyAsync(http.Request, http.RequestAborted, MaxBodyBytes);
        var rollouts = RolloutIds(body);
        if (rollouts.Count == 0) throw OpenAIError.BadRequest("'tags' names no rollout; tag the line \"rollout_id:<id>\" (the metadata.rollout_id of /init).", "tags");
        (int? Code, string Message, JsonArray Details) status;
        try { status = RolloutStatus.ParseStatus(body["status"], "status"); }
        catch (FormatException e) { throw OpenAIError.BadRequest($"Not a log status: {e.Message}.", "status"); }
        var extras = RequestFields.Object(body, "extras");
        string program = body["program"] is JsonValue p && p.GetValueKind() == JsonValueKind.String ? p.GetValue<string>() : "an agent";

        var sessions = rollouts.Select(registry.Find).OfType<RemoteRolloutSession>().ToList();
        if (!byKey && (sessions.Count == 0 || !sessions.All(s => RemoteRolloutRegistry.Matches(s, authorization)))) return Refused();

        var ended = new JsonArray();
        if (status.Code is int code && code != RolloutStatus.Running)
        {
            var final = new RolloutStatus(true, code, status.Message, status.Details, extras);
            foreach (var s in sessions)
                if (s.TryEnd(RolloutEnd.Of(final, $"a log line from {program}"))) ended.Add(s.RolloutId);
        }
        return TypedResults.Json(new JsonObject { ["accepted"] = true, ["ended"] = ended });
    }

    static IResult Refused() => new OpenAIError(StatusCodes.Status401Unauthorized,
        "Missing or incorrect key for this log line: send 'Authorization: Bearer <key>' with an agent log key (Rft:AgentLogKeys; the serving keys of Rft:ApiKeys are not taken here), or the api_key of every rollout it names.",
        null, "invalid_request_error", "invalid_api_key").ToResult();

    /// <summary>The rollout ids of the <c>rollout_id:…</c> tags, in order, once each.</summary>
    static List<string> RolloutIds(JsonObject body)
    {
        if (body["tags"] is not JsonArray tags) throw RequestFields.Wrong("tags", body["tags"], "a list of strings such as \"rollout_id:<id>\"");
        if (tags.Count > MaxTags) throw OpenAIError.BadRequest($"'tags' has {tags.Count} entries; a line may carry at most {MaxTags}.", "tags");
        var ids = new List<string>();
        for (int i = 0; i < tags.Count; i++)
        {
            if (tags[i] is not JsonValue v || v.GetValueKind() != JsonValueKind.String) throw RequestFields.Wrong($"tags[{i}]", tags[i], "a string");
            var tag = v.GetValue<string>();
            if (tag.StartsWith("rollout_id:", StringComparison.Ordinal) && tag["rollout_id:".Length..] is { Length: > 0 } id && !ids.Contains(id)) ids.Add(id);
        }
        return ids;
    }
}
