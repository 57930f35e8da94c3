using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// A job's adapter served by name (<see cref="IModelDeploymentsGrain"/>; what <c>rft deploy | undeploy | models</c> do):
/// <c>POST /v1/rft/deployments</c> <c>{"name", "job_id", "step"?}</c> → 201 Deployment (a name again replaces it),
/// <c>GET /v1/rft/deployments</c> → <c>{"data": [Deployment…]}</c>, <c>DELETE /v1/rft/deployments/{name}</c> →
/// <c>{"name", "undeployed": true}</c> (404 for a name not deployed). Requests then call it with <c>"model": name</c>
/// on <c>/v1/chat/completions</c>; <c>GET /v1/models</c> lists it.
/// </summary>
public static class DeploymentsApi
{
    /// <summary>A deploy copies the adapter in the artifact store: seconds for LoRA-sized files, more on a slow blob store.</summary>
    static readonly TimeSpan DeployTimeout = TimeSpan.FromMinutes(2);

    public static RouteGroupBuilder MapDeploymentsApi(this IEndpointRouteBuilder v1)
    {
        var deployments = v1.MapGroup("/rft/deployments");
        deployments.MapGet("", List);
        deployments.MapPost("", Deploy);
        deployments.MapDelete("/{name}", Undeploy);
        return deployments;
    }

    static async Task<JsonHttpResult<DeploymentList>> List(IGrainFactory grains, CancellationToken cancellation)
    {
        var list = await JobsGrainCalls.Call("deployments", () => grains.GetGrain<IModelDeploymentsGrain>(0).List(), cancellation);
        return TypedResults.Json(new DeploymentList(list.Select(Deployment.Of).ToList()), RftJson.Options);
    }

    static async Task<IResult> Deploy(HttpRequest request, IGrainFactory grains, CancellationToken cancellation)
    {
        var body = await RequestFields.ReadBodyAsync(request, cancellation, maxBytes: 4096, whatFits: "a deployment is {\"name\", \"job_id\", \"step\"}");
        foreach (var key in body.Select(kv => kv.Key))
            if (key is not ("name" or "job_id" or "step")) throw OpenAIError.BadRequest($"Unknown field '{key}'; a deployment takes name, job_id and, optionally, step.", key);
        var name = body["name"] is JsonValue n && n.TryGetValue<string>(out var s) ? s : throw OpenAIError.BadRequest("'name' is required: the model name requests will use.", "name");
        try { ModelDeploymentNames.Checked(name); }
        catch (ArgumentException e) { throw OpenAIError.BadRequest(e.Message, "name"); }
        var jobId = body["job_id"] is JsonValue j && j.TryGetValue<string>(out var js) ? js : throw OpenAIError.BadRequest("'job_id' is required: the job whose adapter is served.", "job_id");
        int? step = null;
        if (body["step"] is JsonNode stepNode)
            step = stepNode is JsonValue sv && sv.TryGetValue<int>(out var st) && st >= 0 ? st : throw OpenAIError.BadRequest("'step' must be a saved step (an integer ≥ 0), or absent for the latest adapter.", "step");
        // the job is this body's job_id, not a path's {id}: the 404 names the field the caller sent
        try { await JobsGrainCalls.Snapshot(grains, jobId, cancellation); }
        catch (OpenAIError e) when (e.Status == StatusCodes.Status404NotFound) { throw new OpenAIError(e.Status, e.Message, "job_id", "invalid_request_error", e.Code); }
        var d = await JobsGrainCalls.Call(jobId, () => grains.GetGrain<IModelDeploymentsGrain>(0).Deploy(name, jobId, step), cancellation, "step", DeployTimeout, conflictCode: "deployment_refused");
        return TypedResults.Json(Deployment.Of(d), RftJson.Options, statusCode: StatusCodes.Status201Created);
    }

    static async Task<JsonHttpResult<UndeployResult>> Undeploy(string name, IGrainFactory grains, CancellationToken cancellation)
    {
        // A name no deploy accepts names no deployment: answered here, and never echoed whole.
        var removed = ModelDeploymentNames.Problem(name) is null
            && await JobsGrainCalls.Call(name, () => grains.GetGrain<IModelDeploymentsGrain>(0).Undeploy(name), cancellation, "name");
        if (!removed)
            throw new OpenAIError(StatusCodes.Status404NotFound, $"No deployment '{(name.Length > ModelDeploymentNames.MaxLength ? name[..ModelDeploymentNames.MaxLength] + "…" : name)}'; GET /v1/rft/deployments lists them.", "name", "invalid_request_error", "deployment_not_found");
        return TypedResults.Json(new UndeployResult(name, true), RftJson.Options);
    }
}

/// <summary>
/// A deployed model as the API and <c>rft models --json</c> show it: <see cref="BaseModel"/> as users named it,
/// <see cref="BaseModelSource"/> where the silos load it from (often an <c>artifact:</c> reference).
/// </summary>
public sealed record Deployment(string Name, string JobId, int Step, int Version, string BaseModel, string BaseModelSource, string AdapterPath, DateTimeOffset DeployedAt)
{
    public static Deployment Of(ModelDeployment d) => new(d.Name, d.JobId, d.Step, d.Version, d.BaseModelDisplayName, d.BaseModel, d.AdapterPath, d.DeployedAt);
}

public sealed record DeploymentList(IReadOnlyList<Deployment> Data);

public sealed record UndeployResult(string Name, bool Undeployed);
