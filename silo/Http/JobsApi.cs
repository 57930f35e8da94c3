using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// The jobs API's reads, under <c>/v1/rft/jobs</c> (inside the <c>/v1</c> group: same API keys, errors in
/// OpenAI's shape), JSON in <see cref="RftJson"/>'s shape. The endpoint translates; the job grain decides.
/// <list type="bullet">
/// <item><c>GET /v1/rft/jobs</c> → <c>{"data": [JobSnapshot…]}</c></item>
/// <item><c>GET /v1/rft/jobs/{id}</c> → JobSnapshot</item>
/// <item><c>GET /v1/rft/jobs/{id}/metrics?from=N</c> → <c>{"data": [StepMetrics…]}</c>, steps ≥ N</item>
/// <item><c>GET /v1/rft/jobs/{id}/rollouts?step=&amp;offset=&amp;limit=</c> or <c>?step=&amp;best=k&amp;worst=k</c> → <c>{"step", "total", "offset", "data": [Rollout…]}</c></item>
/// </list>
/// </summary>
public static class JobsApi
{
    /// <summary>Snapshot calls in flight at once while listing (the registry holds active jobs and the latest 1,000 ended ones).</summary>
    public const int MaxConcurrentSnapshots = 16;
    public const int DefaultRolloutsLimit = 20;
    public const int MaxRolloutsLimit = 100;
    /// <summary>best/worst read the whole step page by page; a step past this many rollouts is ranked on its first ones only (said in the answer's <c>scanned</c>).</summary>
    public const int MaxRolloutsRanked = 20_000;

    /// <summary>
    /// The whole <c>/v1/rft</c> surface: jobs (reads here, <see cref="JobsSubmitApi"/>, <see cref="JobsControlApi"/>,
    /// <see cref="JobsAdapterApi"/>, <see cref="JobEventsApi"/>), <see cref="ArtifactsApi"/>, <see cref="DeploymentsApi"/>
    /// and the OpenAPI document describing them (<see cref="JobsOpenApi"/>).
    /// </summary>
    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder v1)
    {
        var jobs = v1.MapGroup("/rft/jobs");
        jobs.MapGet("", List);
        jobs.MapGet("/{id}", Get);
        jobs.MapGet("/{id}/metrics", Metrics);
        jobs.MapGet("/{id}/rollouts", Rollouts);
        jobs.MapJobEventsApi();
        jobs.MapJobsSubmitApi();
        jobs.MapJobsControlApi();
        jobs.MapJobsAdapterApi();
        v1.MapArtifactsApi();
        v1.MapDeploymentsApi();
        v1.MapJobsOpenApi();
        return v1;
    }

    static async Task<JsonHttpResult<JobList>> List(IGrainFactory grains, CancellationToken cancellation)
    {
        var ids = await JobsGrainCalls.Call("registry", () => grains.GetGrain<IJobRegistryGrain>(0).List(), cancellation);
        var snapshots = new JobSnapshot?[ids.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, ids.Count), new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentSnapshots, CancellationToken = cancellation }, async (i, c) =>
        {
            try { snapshots[i] = await JobsGrainCalls.Snapshot(grains, ids[i], c); }
            catch (OpenAIError e) when (e.Status == StatusCodes.Status404NotFound) { } // registered, then its state was removed: not a job any more
        });
        return TypedResults.Json(new JobList(snapshots.OfType<JobSnapshot>().OrderByDescending(s => s.SubmittedAt).ToList()), RftJson.Options);
    }

    static async Task<JsonHttpResult<JobSnapshot>> Get(string id, IGrainFactory grains, CancellationToken cancellation) =>
        TypedResults.Json(await JobsGrainCalls.Snapshot(grains, id, cancellation), RftJson.Options);

    static async Task<JsonHttpResult<MetricsList>> Metrics(string id, HttpRequest request, IGrainFactory grains, CancellationToken cancellation)
    {
        var from = JobsQuery.Int(request, "from", 0, int.MaxValue) ?? 0;
        await JobsGrainCalls.Snapshot(grains, id, cancellation);
        var history = await JobsGrainCalls.Call(id, () => grains.GetGrain<IJobGrain>(id).GetHistory(from), cancellation);
        return TypedResults.Json(new MetricsList(history), RftJson.Options);
    }

    static async Task<JsonHttpResult<RolloutList>> Rollouts(string id, HttpRequest request, IGrainFactory grains, CancellationToken cancellation)
    {
        var step = JobsQuery.Int(request, "step", 0, int.MaxValue);
        var offset = JobsQuery.Int(request, "offset", 0, int.MaxValue);
        var limit = JobsQuery.Int(request, "limit", 1, MaxRolloutsLimit);
        var best = JobsQuery.Int(request, "best", 0, MaxRolloutsLimit);
        var worst = JobsQuery.Int(request, "worst", 0, MaxRolloutsLimit);
        if ((best is not null || worst is not null) && (offset is not null || limit is not null))
            throw OpenAIError.BadRequest("best/worst rank the whole step, offset/limit page through it in order: give one pair or the other.", best is not null ? "best" : "worst");
        await JobsGrainCalls.Snapshot(grains, id, cancellation);
        var job = grains.GetGrain<IJobGrain>(id);
        if (best is null && worst is null)
        {
            var page = await JobsGrainCalls.Call(id, () => job.GetRollouts(step, offset ?? 0, limit ?? DefaultRolloutsLimit), cancellation, "step");
            return TypedResults.Json(new RolloutList(page.Step, page.Total, page.Offset, page.Rollouts), RftJson.Options);
        }
        var ranked = await Rank(job, id, step, best ?? 0, worst ?? 0, cancellation);
        return TypedResults.Json(ranked, RftJson.Options);
    }

    /// <summary>
    /// The <paramref name="best"/> highest- and <paramref name="worst"/> lowest-reward rollouts of a step,
    /// best first then worst (a rollout in both lists appears once), keeping only those while reading page by page.
    /// </summary>
    static async Task<RolloutList> Rank(IJobGrain job, string id, int? step, int best, int worst, CancellationToken cancellation)
    {
        var top = new List<Rollout>();
        var bottom = new List<Rollout>();
        int offset = 0, total = 0, at = step ?? -1;
        do
        {
            int from = offset;
            var page = await JobsGrainCalls.Call(id, () => job.GetRollouts(at >= 0 ? at : step, from, MaxRolloutsRanked - from), cancellation, "step");
            (at, total) = (page.Step, page.Total);
            if (page.Rollouts.Length == 0) break;
            top = top.Concat(page.Rollouts).OrderByDescending(r => r.Reward).ThenBy(r => r.Row).ThenBy(r => r.Sample).Take(best).ToList();
            bottom = bottom.Concat(page.Rollouts).OrderBy(r => r.Reward).ThenBy(r => r.Row).ThenBy(r => r.Sample).Take(worst).ToList();
            offset += page.Rollouts.Length;
        } while (offset < Math.Min(total, MaxRolloutsRanked));
        var data = top.Concat(bottom.Where(r => !top.Any(t => t.Row == r.Row && t.Sample == r.Sample))).ToList();
        return new RolloutList(at, total, 0, data, offset);
    }
}

/// <summary><c>GET /v1/rft/jobs</c>: newest submission first.</summary>
public sealed record JobList(IReadOnlyList<JobSnapshot> Data);

/// <summary><c>GET /v1/rft/jobs/{id}/metrics</c> and the events stream's <c>metrics</c> event.</summary>
public sealed record MetricsList(IReadOnlyList<StepMetrics> Data);

/// <summary>
/// <c>GET /v1/rft/jobs/{id}/rollouts</c>: rollouts of <see cref="Step"/> (of its <see cref="Total"/>) from
/// <see cref="Offset"/>; with best/worst, <see cref="Scanned"/> says how many of the step's rollouts were ranked.
/// </summary>
public sealed record RolloutList(int Step, int Total, int Offset, IReadOnlyList<Rollout> Data, int? Scanned = null);
