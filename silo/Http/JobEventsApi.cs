using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// <c>GET /v1/rft/jobs/{id}/events[?from=N]</c>: a job live, as server-sent events (what <c>rft watch --url</c>
/// and the dashboard follow). <c>event: snapshot</c> (a JobSnapshot, at the start and whenever it changes),
/// <c>event: metrics</c> (<c>{"data": [StepMetrics…]}</c>, steps not sent yet, from N on at the start),
/// <c>event: end</c> (the final JobSnapshot) and the stream closes; a comment line every
/// <see cref="HeartbeatInterval"/> of silence keeps proxies from closing it.
/// Polling, not an Orleans stream or observer: the job grain already answers snapshots from memory with
/// [AlwaysInterleave], a poll per second per watcher costs nothing beside a step, and a poll survives the
/// job grain moving to another silo, where an observer would be lost silently.
/// </summary>
public static class JobEventsApi
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(15);
    /// <summary>Polls that failed in a row (each bounded by <see cref="JobsGrainCalls.Timeout"/>) before the stream reports an error and ends.</summary>
    public const int MaxFailedPolls = 5;

    public static RouteHandlerBuilder MapJobEventsApi(this IEndpointRouteBuilder jobs) =>
        jobs.MapGet("/{id}/events", Stream);

    static async Task Stream(string id, HttpContext http, IGrainFactory grains)
    {
        var cancellation = http.RequestAborted; // the client leaving ends the loop
        var from = JobsQuery.Int(http.Request, "from", 0, int.MaxValue) ?? 0;
        var job = grains.GetGrain<IJobGrain>(id);
        var snapshot = await JobsGrainCalls.Snapshot(grains, id, cancellation); // 404 before any event
        var events = ServerSentEvents.Start(http.Response);
        await events.SendAsync("snapshot", RftJson.ToNode(snapshot), cancellation);
        int sent = from - 1; // the last step whose metrics went out
        string shown = RftJson.Serialize(snapshot);
        int failures = 0;
        var quietSince = DateTime.UtcNow;
        while (true)
        {
            try
            {
                if (snapshot.Step < sent) sent = snapshot.Step; // rolled back to a checkpoint: its steps are run again, and sent again
                if (snapshot.Step > sent)
                {
                    var history = await JobsGrainCalls.Call(id, () => job.GetHistory(sent + 1), cancellation);
                    if (history.Count > 0)
                    {
                        await events.SendAsync("metrics", RftJson.ToNode(new MetricsList(history)), cancellation);
                        quietSince = DateTime.UtcNow;
                    }
                    // Only what went out counts as sent: the snapshot's step moves on before that step's metrics are kept
                    // (its rollout log and evaluation are awaited first), so moving `sent` to it would skip that step for good.
                    if (history.Count > 0) sent = history[^1].Step;
                }
                if (snapshot.Status.IsFinal())
                {
                    await events.SendAsync("end", RftJson.ToNode(snapshot), cancellation);
                    return;
                }
                if (DateTime.UtcNow - quietSince >= HeartbeatInterval)
                {
                    await events.CommentAsync("heartbeat", cancellation);
                    quietSince = DateTime.UtcNow;
                }
                await Task.Delay(PollInterval, cancellation);
                snapshot = await JobsGrainCalls.Snapshot(grains, id, cancellation);
                failures = 0;
                var now = RftJson.Serialize(snapshot);
                if (now != shown)
                {
                    await events.SendAsync("snapshot", RftJson.ToNode(snapshot), cancellation);
                    shown = now;
                    quietSince = DateTime.UtcNow;
                }
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested) { return; }
            catch (Exception e) when (++failures < MaxFailedPolls && e is OpenAIError { Status: StatusCodes.Status504GatewayTimeout } or not OpenAIError)
            {
                // a silo lost under the job: its grain comes back elsewhere; keep the stream and try again
                await events.CommentAsync($"job did not answer ({failures}/{MaxFailedPolls}), retrying", cancellation);
            }
            catch (Exception e)
            {
                var error = e as OpenAIError ?? new OpenAIError(StatusCodes.Status502BadGateway, $"{e.GetType().Name}: {Secrets.Redact(e.Message)}", null, "server_error", "job_unreachable");
                await events.SendAsync("error", error.ToJson(), cancellation);
                return;
            }
        }
    }

}
