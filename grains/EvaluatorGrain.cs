using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Rft.Evaluators;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Grains;

/// <summary>
/// Runs evaluators next to the caller ([StatelessWorker]: scoring is CPU-light and needs no device).
/// Each item runs on the thread pool under its own timeout (<see cref="EvaluatorRunner"/>), so a slow
/// synchronous evaluator never holds the activation's scheduler; a throw, a timeout or an
/// out-of-range score becomes an invalid outcome with the reason, so one bad rollout never fails the step.
/// [Reentrant]: a call only waits on its items' own threads, so calls run side by side instead of
/// queueing behind each other (a call's response timeout counts its time in the queue too, and the
/// job sizes each call to end within that timeout). Nothing in an activation changes between awaits.
/// </summary>
[StatelessWorker, Reentrant]
public sealed class EvaluatorGrain(ILogger<EvaluatorGrain> logger, IArtifactStore artifacts, IServiceProvider services) : Grain, IEvaluatorGrain
{
    /// <summary>Built evaluators by spec text, shared by every activation in the silo: regexes and schemas are built once, a bounded number kept.</summary>
    static readonly EvaluatorCache<(string, string?)> cache = new(EvaluationLimits.CachedEvaluators);

    /// <summary>
    /// This silo's own OpenAI-compatible endpoint, which a judge without <c>base_url</c> calls: registered by
    /// the HTTP host (silo/Http), absent on a silo without HTTP.
    /// </summary>
    public static ClusterEndpoint OwnEndpoint(IServiceProvider services) =>
        services.GetService(typeof(ClusterEndpoint)) as ClusterEndpoint
        ?? ClusterEndpoint.None("this silo serves no HTTP endpoint (Rft:HttpPort is 0)");

    public async Task<EvaluateOutcome[]> Evaluate(string evaluatorJson, string baseDirectory, EvaluateItem[] items, double timeoutSeconds)
    {
        // Schema files are read from this silo's disk only where the operator allows local paths.
        IEvaluator evaluator;
        try { evaluator = cache.GetOrAdd((evaluatorJson, artifacts.LocalFolderOrNull(baseDirectory)), k => EvaluatorFactory.Create(JsonNode.Parse(k.Item1)!.AsObject(), "evaluator", k.Item2, OwnEndpoint(services))); }
        catch (SpecException e)
        {
            // A spec this silo cannot build (a schema file it may not read) scores every item invalid with the reason, like any evaluator error.
            return items.Select(_ => new EvaluateOutcome(0, false, $"evaluator spec: {e.Message}", new Dictionary<string, double>(), false, true)).ToArray();
        }
        var outcomes = new EvaluateOutcome[items.Length];
        if (evaluator is IGroupEvaluator { Groupwise: true } group)
        {
            // Consecutive items of one row are one prompt's group (the job sends whole groups): scored in one call.
            for (int start = 0; start < items.Length;)
            {
                int end = start + 1;
                while (end < items.Length && items[end].RowJson == items[start].RowJson) end++;
                var scored = await EvaluateGroup(group, items[start..end], TimeSpan.FromSeconds(timeoutSeconds));
                scored.CopyTo(outcomes, start);
                start = end;
            }
            return outcomes;
        }
        for (int i = 0; i < items.Length; i++)
            outcomes[i] = await EvaluateOne(evaluator, items[i], TimeSpan.FromSeconds(timeoutSeconds));
        return outcomes;
    }

    static EvaluationInput Input(EvaluateItem item) => new(item.Completion,
        item.GroundTruthJson is null ? null : JsonNode.Parse(item.GroundTruthJson),
        JsonNode.Parse(item.RowJson) as JsonObject ?? new JsonObject(),
        item.TrajectoryJson is null ? null : JsonNode.Parse(item.TrajectoryJson) as JsonArray, item.ReportedScore, item.ReportedReason);

    static EvaluateOutcome Outcome(EvaluationResult result) => new(result.Score, result.IsScoreValid, result.Reason,
        result.Metrics?.Where(m => m.Value.IsScoreValid).ToDictionary(m => m.Key, m => m.Value.Score) ?? new Dictionary<string, double>(), false, false);

    async Task<EvaluateOutcome[]> EvaluateGroup(IGroupEvaluator evaluator, EvaluateItem[] items, TimeSpan timeout)
    {
        try
        {
            var results = await EvaluatorRunner.RunGroupAsync(evaluator, items.Select(Input).ToList(), timeout);
            return results.Select(Outcome).ToArray();
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            return items.Select(_ => new EvaluateOutcome(0, false, $"evaluator timed out after {timeout.TotalSeconds:G3} s", new Dictionary<string, double>(), true, false)).ToArray();
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Evaluator {Type} failed on one group", evaluator.Type);
            return items.Select(_ => new EvaluateOutcome(0, false, $"evaluator error: {e.GetType().Name}: {Secrets.Redact(e.Message)}", new Dictionary<string, double>(), false, true)).ToArray();
        }
    }

    async Task<EvaluateOutcome> EvaluateOne(IEvaluator evaluator, EvaluateItem item, TimeSpan timeout)
    {
        try
        {
            return Outcome(await EvaluatorRunner.RunAsync(evaluator, Input(item), timeout));
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            return new EvaluateOutcome(0, false, $"evaluator timed out after {timeout.TotalSeconds:G3} s", new Dictionary<string, double>(), true, false);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Evaluator {Type} failed on one rollout", evaluator.Type);
            return new EvaluateOutcome(0, false, $"evaluator error: {e.GetType().Name}: {Secrets.Redact(e.Message)}", new Dictionary<string, double>(), false, true);
        }
    }
}
