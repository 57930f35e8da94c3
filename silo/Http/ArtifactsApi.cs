using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// Uploads to the cluster's artifact store over HTTP: chunked, SHA-256 checked, resumable. The HTTP face of
/// <see cref="IArtifactUploadGrain"/> (the grain stages, checks and stores; this translates):
/// <list type="number">
/// <item><c>POST /v1/rft/artifacts</c> <c>{"sha256", "size", "session"?}</c> → <c>{"session", "received", "stored", …}</c>:
/// starts an upload, or resumes <c>session</c> (the client keeps it across a dropped connection) from <c>received</c>;
/// <c>stored: true</c> means the store has the file already and nothing need be sent.</item>
/// <item><c>PUT /v1/rft/artifacts/{sha256}/sessions/{session}?offset=N</c>, body the bytes from N (at most
/// <see cref="MaxChunkBytes"/>) → <c>{"received"}</c>; an offset other than what arrived so far is a 409
/// (<c>upload_offset</c>): ask again with POST and continue from its <c>received</c>.</item>
/// <item><c>POST /v1/rft/artifacts/{sha256}/sessions/{session}:complete</c> → <c>{"stored": true, "reference"}</c>
/// once size and SHA-256 match; a mismatch is a 400 (<c>invalid_data</c>) and the session's bytes are gone.</item>
/// </list>
/// A job names an uploaded file <c>artifact:sha256/{sha256}/{name}</c> and a folder (its manifest, one
/// <c>{name} {sha256}</c> line per file, uploaded the same way) <c>artifact:folder/{sha256}</c>.
/// </summary>
public static class ArtifactsApi
{
    /// <summary>One chunk is one grain message: the silo-to-silo connection must never carry more (NOTES.md).</summary>
    public const int MaxChunkBytes = MessageLimits.MaxChunkBytes;
    /// <summary>Completing hashes the whole file on the grain's silo: model-sized files take a while.</summary>
    static readonly TimeSpan CompleteTimeout = TimeSpan.FromMinutes(5);

    public static RouteGroupBuilder MapArtifactsApi(this IEndpointRouteBuilder v1)
    {
        var artifacts = v1.MapGroup("/rft/artifacts");
        artifacts.MapPost("", Begin);
        artifacts.MapPut("/{sha256}/sessions/{session}", Append);
        artifacts.MapPost("/{sha256}/sessions/{session}:complete", Complete);
        return artifacts;
    }

    static async Task<JsonHttpResult<UploadState>> Begin(HttpRequest request, IGrainFactory grains, IArtifactStore store, CancellationToken cancellation)
    {
        var body = await RequestFields.ReadBodyAsync(request, cancellation, maxBytes: 4096, whatFits: "an upload starts with {\"sha256\", \"size\", \"session\"}; the bytes go in PUT chunks");
        var sha = Sha256(body["sha256"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null, "sha256");
        if (body["size"] is not JsonValue sizeValue || !sizeValue.TryGetValue<long>(out var size) || size < 0)
            throw OpenAIError.BadRequest("'size' must be the file's length in bytes (an integer ≥ 0).", "size");
        var session = body["session"] is null ? Guid.NewGuid() : Session(body["session"] is JsonValue sv && sv.TryGetValue<string>(out var text) ? text : null);
        foreach (var key in body.Select(kv => kv.Key))
            if (key is not ("sha256" or "size" or "session")) throw OpenAIError.BadRequest($"Unknown field '{key}'; an upload starts with sha256, size and, to resume, session.", key);
        // Begin's one conflict is the file's session limit: no field of this request is wrong, so no param.
        long received;
        try { received = await JobsGrainCalls.Call(sha, () => grains.GetGrain<IArtifactUploadGrain>(sha).Begin(session, sha, size), cancellation, "size"); }
        catch (OpenAIError e) when (e.Status == StatusCodes.Status409Conflict) { throw new OpenAIError(e.Status, e.Message, null, "invalid_request_error", "upload_sessions"); }
        var stored = received == size && await store.ExistsAsync(ArtifactReference.UploadPath(sha), cancellation);
        return TypedResults.Json(new UploadState(sha, size, session, received, stored, stored ? Reference(sha) : null), RftJson.Options);
    }

    static async Task<JsonHttpResult<UploadProgress>> Append(string sha256, string session, HttpRequest request, IGrainFactory grains, CancellationToken cancellation)
    {
        var sha = Sha256(sha256, "sha256");
        var id = Session(session);
        var offset = JobsQuery.Int64(request, "offset", 0, long.MaxValue) ?? throw OpenAIError.BadRequest("'offset' is required: where these bytes start in the file (the 'received' of the last answer).", "offset");
        var chunk = await ReadChunkAsync(request, cancellation);
        await JobsGrainCalls.Call(sha, () => grains.GetGrain<IArtifactUploadGrain>(sha).Append(id, offset, chunk), cancellation, "offset", conflictCode: "upload_offset");
        return TypedResults.Json(new UploadProgress(sha, id, offset + chunk.Length), RftJson.Options);
    }

    static async Task<JsonHttpResult<UploadState>> Complete(string sha256, string session, IGrainFactory grains, IArtifactStore store, CancellationToken cancellation)
    {
        var sha = Sha256(sha256, "sha256");
        var id = Session(session);
        // a hash mismatch is the sha256's fault (400); a conflict, bytes missing or a session unknown, the session's (409)
        try { await JobsGrainCalls.Call(sha, () => grains.GetGrain<IArtifactUploadGrain>(sha).Complete(id), cancellation, "sha256", CompleteTimeout, conflictCode: "upload_incomplete"); }
        catch (OpenAIError e) when (e.Status == StatusCodes.Status409Conflict) { throw new OpenAIError(e.Status, e.Message, "session", "invalid_request_error", e.Code); }
        if (!await store.ExistsAsync(ArtifactReference.UploadPath(sha), cancellation))
            throw new OpenAIError(StatusCodes.Status409Conflict, $"Upload {sha} is not in the store after completing; start it again with POST /v1/rft/artifacts.", "session", "invalid_request_error", "upload_incomplete");
        return TypedResults.Json(new UploadState(sha, null, id, null, true, Reference(sha)), RftJson.Options);
    }

    /// <summary>The body, refused with 413 past <see cref="MaxChunkBytes"/> (read no further than that).</summary>
    static async Task<byte[]> ReadChunkAsync(HttpRequest request, CancellationToken cancellation)
    {
        OpenAIError TooLarge() => new(StatusCodes.Status413PayloadTooLarge, $"A chunk is at most {MaxChunkBytes} bytes; send the file in parts, each at the offset the last answer gave.", null, "invalid_request_error", "request_too_large");
        if (request.ContentLength > MaxChunkBytes) throw TooLarge();
        var buffer = new MemoryStream();
        var block = new byte[81920];
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(block, cancellation)) > 0)
            {
                if (buffer.Length + read > MaxChunkBytes) throw TooLarge();
                buffer.Write(block, 0, read);
            }
        }
        catch (BadHttpRequestException e) { throw new OpenAIError(e.StatusCode, $"The chunk could not be read: {e.Message}", null, "invalid_request_error", null); }
        if (buffer.Length == 0) throw OpenAIError.BadRequest("The chunk is empty; send the file's bytes from 'offset' as the request body.", null);
        return buffer.ToArray();
    }

    /// <summary>How a job names an uploaded file, less the name the job gives it (appended: <c>…/train.jsonl</c>).</summary>
    static string Reference(string sha) => ArtifactReference.For($"sha256/{sha}/");

    static string Sha256(string? value, string param) =>
        value is not null && ArtifactReference.IsSha256(value) ? value
            : throw OpenAIError.BadRequest($"'{param}' must be the file's SHA-256 as 64 lower-case hex characters, got '{(value is null ? "nothing" : value.Length > 70 ? value[..70] + "…" : value)}'.", param);

    static Guid Session(string? value) =>
        Guid.TryParseExact(value, "D", out var id) || Guid.TryParseExact(value, "N", out id) ? id
            : throw OpenAIError.BadRequest($"'session' must be the session id an earlier POST /v1/rft/artifacts answered (a UUID), got '{(value is null ? "nothing" : value.Length > 40 ? value[..40] + "…" : value)}'.", "session");
}

/// <summary>An upload's state. <see cref="Reference"/> (when stored) is the prefix a job spec completes with a file name: <c>artifact:sha256/{hex}/train.jsonl</c>.</summary>
public sealed record UploadState(string Sha256, long? Size, Guid Session, long? Received, bool Stored, string? Reference);

public sealed record UploadProgress(string Sha256, Guid Session, long Received);
