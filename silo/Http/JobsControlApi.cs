using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// <c>POST /v1/rft/jobs/{id}:cancel | :pause | :resume</c> (Google's custom-method form) → the JobSnapshot
/// after the request was recorded: the job applies it at the next step boundary, and the snapshot
/// already shows a pause or resume. A job that has ended is a 409 (<c>job_ended</c>): there is nothing to change.
/// </summary>
public static class JobsControlApi
{
    public static readonly string[] Verbs = ["cancel", "pause", "resume"];

    public static IEndpointRouteBuilder MapJobsControlApi(this IEndpointRouteBuilder jobs)
    {
        foreach (var verb in Verbs)
            jobs.MapPost($"/{{id}}:{verb}", (string id, IGrainFactory grains, CancellationToken cancellation) => Control(id, verb, grains, cancellation));
        return jobs;
    }

    static async Task<JsonHttpResult<JobSnapshot>> Control(string id, string verb, IGrainFactory grains, CancellationToken cancellation)
    {
        var before = await JobsGrainCalls.Snapshot(grains, id, cancellation);
        if (before.Status.IsFinal())
            throw new OpenAIError(StatusCodes.Status409Conflict, $"Job {id} already ended ({RftJson.Name(before.Status)}); there is nothing to {verb}.", "id", "invalid_request_error", "job_ended");
        var job = grains.GetGrain<IJobGrain>(id);
        var after = await JobsGrainCalls.Call(id, () => verb switch { "cancel" => job.Cancel(), "pause" => job.Pause(), _ => job.Resume() }, cancellation);
        return TypedResults.Json(after, RftJson.Options);
    }
}
