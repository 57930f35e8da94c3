using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs.Spec;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// <c>POST /v1/rft/jobs</c>: a job spec as JSON with the job file's keys (<c>base_model</c>, <c>dataset</c>,
/// <c>evaluator</c>, <c>training</c>…), inputs as <c>artifact:</c> references (<see cref="ArtifactsApi"/>),
/// an evaluator's files inline (<c>source</c>, <c>schema</c>) → 201 with the JobSnapshot. Validated by
/// <see cref="JobSpecParser"/>, the parser <c>rft submit</c> uses on a job file, with the referenced
/// datasets read from the store: every problem of the spec in one 400. An <c>Idempotency-Key</c> header
/// makes a retried submit land on the same job instead of starting a second one.
/// </summary>
public static class JobsSubmitApi
{
    /// <summary>A spec with an inline Python reward (≤ 256 KiB) and schema fits well within this.</summary>
    public const int MaxSpecBytes = 1 << 20;
    /// <summary>Validation reads the referenced datasets (and materializes a model folder) from the store first.</summary>
    static readonly TimeSpan MaterializeTimeout = TimeSpan.FromMinutes(2);
    static readonly TimeSpan SubmitTimeout = TimeSpan.FromSeconds(60);
    static readonly string[] InputFields = ["base_model", "dataset", "eval_dataset"];

    public static RouteHandlerBuilder MapJobsSubmitApi(this IEndpointRouteBuilder jobs) => jobs.MapPost("", Submit);

    static async Task<IResult> Submit(HttpContext http, IGrainFactory grains, IArtifactStore store)
    {
        var cancellation = http.RequestAborted;
        // The same answer with or without a Content-Length (a chunked body is counted while read).
        var body = await RequestFields.ReadBodyAsync(http.Request, cancellation, MaxSpecBytes, "a job spec; upload datasets and models as artifacts and refer to them");
        var materialized = new Dictionary<string, string>();
        foreach (var field in InputFields)
        {
            if (body[field] is not JsonValue v || !v.TryGetValue<string>(out var value) || !ArtifactReference.IsReference(value) || materialized.ContainsKey(value)) continue;
            try { materialized[value] = await store.LocalPathAsync(value, field, cancellation).WaitAsync(MaterializeTimeout, cancellation); }
            catch (FileNotFoundException) { } // not uploaded: the parser says so, beside the spec's other problems
            catch (Exception e) when (e is ArgumentException or InvalidDataException) { throw OpenAIError.BadRequest($"{Secrets.Redact(e.Message)}", field); }
        }
        JobSpec spec;
        try { spec = JobSpecParser.FromJson(body, JobSpecInputs.Request(materialized, store.AllowLocalPaths)); }
        catch (JobSpecException e)
        {
            throw OpenAIError.BadRequest(string.Join("\n", e.Errors.Select(x => $"{x.Field}: {Secrets.Redact(x.Message)}")), e.Field);
        }
        var id = NewId(spec.Name, http.Request.Headers["Idempotency-Key"]);
        var snapshot = await JobsGrainCalls.Call(id, () => grains.GetGrain<IJobGrain>(id).Submit(spec), cancellation, null, SubmitTimeout, conflictCode: "job_exists");
        http.Response.Headers.Location = $"/v1/rft/jobs/{id}";
        return TypedResults.Json(snapshot, RftJson.Options, statusCode: StatusCodes.Status201Created);
    }

    /// <summary>
    /// The console's id (the name, then the UTC time) with a random tail, so two submits of one name in the
    /// same second are two jobs; with an idempotency key, the key's hash instead, so a retry is the same job
    /// (the grain accepts the same spec again and refuses a different one with 409).
    /// </summary>
    static string NewId(string name, string? idempotencyKey)
    {
        if (string.IsNullOrEmpty(idempotencyKey)) return $"{JobIds.New(name)}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
        if (idempotencyKey.Length > 256) throw OpenAIError.BadRequest("The Idempotency-Key header is over 256 characters; send a UUID.", "Idempotency-Key");
        var prefix = JobIds.Sanitized(name);
        return $"{prefix[..Math.Min(prefix.Length, 120)]}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey)))[..16]}";
    }
}
