using Microsoft.AspNetCore.Http;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// Every grain call of the jobs API goes through here: a deadline (a silo that holds the job may be
/// gone; the caller then gets 504, not a request that hangs), and the grain's refusals in the
/// caller's error shape — an unknown job 404, a bad argument 400, a state that forbids it 409.
/// </summary>
public static class JobsGrainCalls
{
    /// <summary>Reads of small state (snapshot, control) answer in milliseconds; this is the bound when a silo is lost.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static async Task<T> Call<T>(string jobId, Func<Task<T>> call, CancellationToken cancellation, string? param = null, TimeSpan? timeout = null, string conflictCode = "job_state")
    {
        try { return await call().WaitAsync(timeout ?? Timeout, cancellation); }
        catch (KeyNotFoundException) { throw NotFound(jobId); }
        catch (TimeoutException) when (!cancellation.IsCancellationRequested)
        {
            throw new OpenAIError(StatusCodes.Status504GatewayTimeout, $"'{jobId}' did not answer within {(timeout ?? Timeout).TotalSeconds:F0} s (its silo may be restarting); try again.", null, "server_error", "grain_timeout");
        }
        catch (InvalidDataException e) { throw new OpenAIError(StatusCodes.Status400BadRequest, Secrets.Redact(e.Message), param, "invalid_request_error", "invalid_data"); }
        catch (ArgumentException e) { throw OpenAIError.BadRequest(Secrets.Redact(e.Message), param); }
        catch (InvalidOperationException e) { throw new OpenAIError(StatusCodes.Status409Conflict, Secrets.Redact(e.Message), param, "invalid_request_error", conflictCode); }
    }

    public static Task Call(string subject, Func<Task> call, CancellationToken cancellation, string? param = null, TimeSpan? timeout = null, string conflictCode = "job_state") =>
        Call(subject, async () => { await call(); return true; }, cancellation, param, timeout, conflictCode);

    public static Task<JobSnapshot> Snapshot(IGrainFactory grains, string jobId, CancellationToken cancellation) =>
        Call(CheckedId(jobId), () => grains.GetGrain<IJobGrain>(jobId).GetSnapshot(), cancellation);

    public static OpenAIError NotFound(string jobId) =>
        new(StatusCodes.Status404NotFound, $"No job '{jobId}'; GET /v1/rft/jobs lists them.{ControlHint(jobId)}", "id", "invalid_request_error", "job_not_found");

    /// <summary>A GET of <c>…/{id}:cancel</c> reaches the read route with "x:cancel" as the id: say that control is a POST.</summary>
    static string ControlHint(string jobId) =>
        jobId.LastIndexOf(':') is var colon and > 0 && JobsControlApi.Verbs.Contains(jobId[(colon + 1)..])
            ? $" To {jobId[(colon + 1)..]} job '{jobId[..colon]}', POST /v1/rft/jobs/{jobId}."
            : "";

    /// <summary>Job ids are letters, digits, '-' and '_' (what <c>rft submit</c> and POST /v1/rft/jobs make); anything else names no job.</summary>
    public static string CheckedId(string jobId) =>
        jobId.Length is > 0 and <= MaxIdLength && jobId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_') ? jobId : throw NotFound(jobId.Length > MaxIdLength ? jobId[..MaxIdLength] + "…" : jobId);

    public const int MaxIdLength = 200;
}
