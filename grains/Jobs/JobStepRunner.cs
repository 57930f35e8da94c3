using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Orleans.Rft.Agents;
using Orleans.Rft.Engine.Data;
using Orleans.Rft.Engine.Training;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Grains.Jobs;

/// <summary>A rollout with its row, before scoring.</summary>
public sealed record PendingRollout(int Row, int Sample, int Version, GeneratedCompletion Completion, string? Silo = null);

/// <summary>
/// One training step of DESIGN §3 over the job's grains: rollouts → evaluation → group advantages →
/// sharded update → publish. Fan-out is bounded by the named limits below. Plain class: the job grain
/// owns the state and calls in.
/// </summary>
public sealed class JobStepRunner(JobSpec spec, IReadOnlyList<DatasetRow> rows, IReadOnlyList<string> rowJson, StepCluster cluster, IGrainFactory grains)
{
    public const int MaxRolloutRequestsInFlight = 32;

    /// <summary>The job's id (agents tell remote servers which job a rollout belongs to).</summary>
    public string JobId { get; init; } = "";
    public const int MaxEvaluatorCallsInFlight = 8;
    public const double EvaluatorTimeoutSeconds = 30;

    /// <summary><see cref="IEvaluatorGrain.Evaluate"/>'s <c>[ResponseTimeout]</c>, read from the interface so that the two cannot drift apart.</summary>
    public static readonly TimeSpan EvaluatorCallTimeout =
        typeof(IEvaluatorGrain).GetMethod(nameof(IEvaluatorGrain.Evaluate))!.GetCustomAttribute<ResponseTimeoutAttribute>()!.Timeout!.Value;

    /// <summary>
    /// Items per evaluator call. The grain scores a call's items one after another, each within
    /// <see cref="EvaluatorTimeoutSeconds"/>, so n items take at most n × 30 s; with 30 s left for
    /// transport that stays inside <see cref="EvaluatorCallTimeout"/> (5 min → 9 items), and a call never
    /// times out as a whole, which would turn its good scores into "evaluator call failed" too.
    /// </summary>
    public static readonly int EvaluatorChunk = Math.Max(1, (int)((EvaluatorCallTimeout.TotalSeconds - 30) / EvaluatorTimeoutSeconds));
    static readonly TimeSpan RolloutTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Starts generation for the given rows with the adapter of <paramref name="version"/>, split over
    /// the rollout workers present now in proportion to their measured throughput
    /// (<see cref="ElasticWorkers"/>), each request ≤ <see cref="MaxRequestBytes"/> of prompts. Sample
    /// row i·n + k of the step is seeded from (<paramref name="seed"/>, i·n + k) whichever request carries
    /// it, so the samples do not depend on the number of workers or how requests were batched. A request
    /// whose worker fails (its silo left) is sent again to another present worker, up to
    /// <see cref="MaxRolloutAttempts"/> in all, so a leaving silo does not fail the step.
    /// </summary>
    public async Task<List<PendingRollout>> Rollouts(int[] rowIndices, int n, string? adapterPath, int version, long seed, double temperature, int step = 0)
    {
        var elastic = cluster.Elastic;
        IReadOnlyList<(WorkerSlot Worker, int Prompts)> plan;
        if (elastic is not null) plan = await elastic.Plan(rowIndices.Length);
        else
        {
            // Fixed workers (a cluster built without membership): an even split, as before.
            var counts = WorkShares.Split(rowIndices.Length, cluster.RolloutWorkers.Select(_ => 1.0).ToList());
            plan = cluster.RolloutWorkers.Select((w, i) => (new WorkerSlot("", w.GetPrimaryKeyString()), counts[i])).ToList();
        }
        var positions = rowIndices.Select((row, position) => (row, position)).ToArray();
        var shares = new List<((int row, int position)[] Rows, int Worker)>();
        for (int w = 0, at = 0; w < plan.Count; at += plan[w].Prompts, w++)
            if (plan[w].Prompts > 0) shares.Add((positions[at..(at + plan[w].Prompts)], w));
        var chunks = shares.SelectMany(share => RequestChunks([share.Rows], r => Encoding.UTF8.GetByteCount(rowJson[r]), r => $"{spec.Dataset} line {rows[r].Line}")
            .Select(c => (Rows: c, share.Worker))).ToList();
        var worked = plan.Select(_ => (Tokens: 0L, First: (DateTime?)null, Last: DateTime.MinValue)).ToArray();
        using var gate = new SemaphoreSlim(MaxRolloutRequestsInFlight);
        var tasks = chunks.Select(async chunk =>
        {
            await gate.WaitAsync();
            try
            {
                var request = new GenerateRequest(spec.BaseModel, adapterPath, version, chunk.Rows.Select(r => rowJson[r.row]).ToArray(), n,
                    temperature, spec.Inference.TopP, spec.Inference.TopK, spec.Inference.MaxTokens, spec.Inference.Stop?.ToArray() ?? [], seed, chunk.Rows[0].position * n, spec.Inference.ChatTemplateKwargsJson,
                    spec.AgentJson, JobId, step, spec.Training.MaxContextLength);
                var (result, slot, started) = await GenerateSomewhere(request, plan, chunk.Worker);
                lock (worked)
                {
                    if (slot == chunk.Worker)
                    {
                        ref var w = ref worked[slot];
                        w.Tokens += result.Completions.Sum(c => (long)c.CompletionIds.Length);
                        w.First = w.First is { } f && f < started ? f : started;
                        w.Last = DateTime.UtcNow > w.Last ? DateTime.UtcNow : w.Last;
                    }
                }
                var silo = plan[slot].Worker.Silo;
                return chunk.Rows.SelectMany((r, j) => Enumerable.Range(0, n).Select(k => new PendingRollout(r.row, k, result.PolicyVersion, result.Completions[j * n + k], silo))).ToList();
            }
            finally { gate.Release(); }
        }).ToList();
        var all = (await Task.WhenAll(tasks)).SelectMany(x => x).ToList();
        if (elastic is not null)
            for (int w = 0; w < plan.Count; w++)
                if (worked[w].First is { } first) elastic.Throughput.Record(plan[w].Worker.Key, worked[w].Tokens, (worked[w].Last - first).TotalSeconds);
        return all;
    }

    /// <summary>Attempts of one generate request, each on another worker when the one before failed.</summary>
    public const int MaxRolloutAttempts = RolloutFailover.MaxAttempts;

    /// <summary>
    /// Sends <paramref name="request"/> to its planned worker; if that fails and other workers are in the
    /// plan, to the next one (in plan order) that has not failed it (<see cref="RolloutFailover"/>), so a silo
    /// that left mid-request costs the step a retry, not a failure. The samples do not change: seeds follow the rows, not the worker.
    /// </summary>
    Task<(GenerateResult Result, int Slot, DateTime Started)> GenerateSomewhere(GenerateRequest request, IReadOnlyList<(WorkerSlot Worker, int Prompts)> plan, int planned) =>
        RolloutFailover.Run(plan.Count, planned, slot =>
            GenerateResultPages.GenerateAsync(cluster.Elastic?.Grain(plan[slot].Worker) ?? cluster.RolloutWorkers[slot], request, RolloutTimeout));

    /// <summary>Prompts of one generate request: the message limit less room for the request's other fields.</summary>
    public const int MaxRequestBytes = MessageLimits.MaxChunkBytes - (64 << 10);

    /// <summary>Cuts each worker's share further so that no request carries more than <see cref="MaxRequestBytes"/> of row JSON (consecutive positions stay together).</summary>
    public static IEnumerable<(int row, int position)[]> RequestChunks(IEnumerable<(int row, int position)[]> shares, Func<int, int> bytes, Func<int, string> where)
    {
        foreach (var share in shares)
        {
            var current = new List<(int row, int position)>();
            long size = 0;
            foreach (var r in share)
            {
                long b = bytes(r.row) + 8; // + the string's length prefix and tag
                if (b > MaxRequestBytes)
                    throw new ArgumentException($"{where(r.row)}: the row is {b} bytes of JSON, more than one message carries ({MaxRequestBytes}); shorten it.");
                if (current.Count > 0 && size + b > MaxRequestBytes) { yield return current.ToArray(); (current, size) = (new(), 0); }
                current.Add(r);
                size += b;
            }
            if (current.Count > 0) yield return current.ToArray();
        }
    }

    /// <summary>
    /// Scores rollouts; never throws for a bad evaluator result (it comes back invalid). Calls carry at
    /// most <see cref="EvaluatorChunk"/> items and one message's bytes (each item repeats its row's
    /// JSON, and a completion can be long); an item too big for a message on its own is scored invalid
    /// with the reason instead of being sent.
    /// </summary>
    public async Task<EvaluateOutcome[]> Evaluate(IReadOnlyList<PendingRollout> rollouts)
    {
        var all = rollouts.Select(r => new EvaluateItem(r.Completion.Text, rows[r.Row].GroundTruth?.ToJsonString(), rowJson[r.Row],
            r.Completion.Agent?.MessagesJson, r.Completion.Agent?.ReportedScore, r.Completion.Agent?.ReportedReason)).ToArray();
        var outcomes = new EvaluateOutcome[all.Length];
        // A rollout whose agent failed is not scored: it is invalid with the failure as its reason (out of the baseline).
        var scored = new List<int>();
        for (int i = 0; i < all.Length; i++)
        {
            var agent = rollouts[i].Completion.Agent;
            if (AgentCompletions.Failed(agent))
                outcomes[i] = new EvaluateOutcome(0, false, $"agent {agent!.FailureKind}: {agent.Failure}", new Dictionary<string, double>(), agent.FailureKind == AgentFailureKinds.Deadline, false);
            else scored.Add(i);
        }
        if (scored.Count < all.Length)
        {
            var sub = scored.Select(i => rollouts[i]).ToList();
            var subOutcomes = sub.Count == 0 ? [] : await Evaluate(sub);
            for (int k = 0; k < scored.Count; k++) outcomes[scored[k]] = subOutcomes[k];
            return outcomes;
        }
        var items = all;
        var maxBytes = EvaluatorCallBytes(spec.EvaluatorJson, spec.BaseDirectory);
        var (calls, oversize) = Groupwise(spec.EvaluatorJson)
            ? GroupCalls(rollouts.Select(r => (r.Row, r.Sample)).ToList(), items.Select(ItemBytes).ToArray(), maxBytes)
            : EvaluatorCalls(items.Select(ItemBytes).ToArray(), EvaluatorChunk, maxBytes);
        foreach (var i in oversize)
            outcomes[i] = new EvaluateOutcome(0, false, $"the rollout with its row is {ItemBytes(items[i]):N0} bytes, more than one evaluator call carries ({maxBytes:N0}); lower inference.max_tokens or shorten the row", new Dictionary<string, double>(), false, false);
        using var gate = new SemaphoreSlim(MaxEvaluatorCallsInFlight);
        var tasks = calls.Select(async call =>
        {
            await gate.WaitAsync();
            try
            {
                var chunk = call.Select(i => items[i]).ToArray();
                EvaluateOutcome[] results;
                try
                {
                    results = await grains.GetGrain<IEvaluatorGrain>(0).Evaluate(spec.EvaluatorJson, spec.BaseDirectory, chunk, EvaluatorTimeoutSeconds)
                        .WaitAsync(TimeSpan.FromSeconds(EvaluatorTimeoutSeconds * chunk.Length + 30));
                }
                catch (Exception e)
                {
                    results = chunk.Select(_ => new EvaluateOutcome(0, false, $"evaluator call failed: {e.Message}", new Dictionary<string, double>(), e is TimeoutException, e is not TimeoutException)).ToArray();
                }
                for (int j = 0; j < call.Length; j++) outcomes[call[j]] = results[j];
            }
            finally { gate.Release(); }
        }).ToList();
        await Task.WhenAll(tasks);
        return outcomes;
    }

    /// <summary>True when the job's evaluator scores a prompt's rollouts together (<c>groupwise: true</c>): each call then carries one whole group.</summary>
    public static bool Groupwise(string evaluatorJson) =>
        System.Text.Json.Nodes.JsonNode.Parse(evaluatorJson)?["groupwise"] is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<bool>(out var g) && g;

    /// <summary>
    /// One call per group for a groupwise evaluator: a group is consecutive rollouts of one row from
    /// sample 0 on (a row drawn twice in a step is two groups, as in <see cref="Advantages"/>). A group
    /// over <paramref name="maxBytes"/> is oversize as a whole: its reward needs every member.
    /// </summary>
    public static (List<int[]> Calls, List<int> Oversize) GroupCalls(IReadOnlyList<(int Row, int Sample)> rollouts, IReadOnlyList<int> itemBytes, int maxBytes)
    {
        var calls = new List<int[]>();
        var oversize = new List<int>();
        for (int start = 0; start < rollouts.Count;)
        {
            int end = start + 1;
            while (end < rollouts.Count && rollouts[end].Row == rollouts[start].Row && rollouts[end].Sample != 0) end++;
            var members = Enumerable.Range(start, end - start).ToArray();
            if (members.Sum(i => (long)itemBytes[i]) > maxBytes) oversize.AddRange(members); else calls.Add(members);
            start = end;
        }
        return (calls, oversize);
    }

    /// <summary>Bytes of items one evaluator call may carry: one message, less the evaluator spec and base directory it repeats and 64 KiB for the rest.</summary>
    public static int EvaluatorCallBytes(string evaluatorJson, string baseDirectory) =>
        MessageLimits.MaxChunkBytes - (64 << 10) - Encoding.UTF8.GetByteCount(evaluatorJson) - Encoding.UTF8.GetByteCount(baseDirectory);

    /// <summary>An item's size on the wire, bounded above: its three strings as UTF-8 plus their length prefixes and tags.</summary>
    public static int ItemBytes(EvaluateItem item) =>
        Encoding.UTF8.GetByteCount(item.Completion) + Encoding.UTF8.GetByteCount(item.GroundTruthJson ?? "") + Encoding.UTF8.GetByteCount(item.RowJson)
        + Encoding.UTF8.GetByteCount(item.TrajectoryJson ?? "") + Encoding.UTF8.GetByteCount(item.ReportedReason ?? "") + 48;

    /// <summary>
    /// Cuts items, in order, into calls of at most <paramref name="maxItems"/> items and
    /// <paramref name="maxBytes"/> bytes; an item over <paramref name="maxBytes"/> on its own goes in no
    /// call and is listed in Oversize.
    /// </summary>
    public static (List<int[]> Calls, List<int> Oversize) EvaluatorCalls(IReadOnlyList<int> itemBytes, int maxItems, int maxBytes)
    {
        var calls = new List<int[]>();
        var oversize = new List<int>();
        var current = new List<int>();
        long size = 0;
        for (int i = 0; i < itemBytes.Count; i++)
        {
            if (itemBytes[i] > maxBytes) { oversize.Add(i); continue; }
            if (current.Count == maxItems || current.Count > 0 && size + itemBytes[i] > maxBytes) { calls.Add(current.ToArray()); (current, size) = (new(), 0); }
            current.Add(i);
            size += itemBytes[i];
        }
        if (current.Count > 0) calls.Add(current.ToArray());
        return (calls, oversize);
    }

    /// <summary>
    /// Group advantages over each prompt's n samples; invalid scores get 0 and stay out of the baseline.
    /// A group is n consecutive rollouts (every rollout source returns a prompt's samples together), not
    /// a row: a row drawn twice in one step (at an epoch boundary, or by a dynamic-sampling top-up) is
    /// two groups of n, each its own baseline, as the two draws were sampled as two prompts.
    /// </summary>
    public AdvantageResult Advantages(IReadOnlyList<PendingRollout> rollouts, IReadOnlyList<EvaluateOutcome> outcomes)
    {
        int n = spec.Inference.N;
        if (rollouts.Count % n != 0) throw new InvalidOperationException($"{rollouts.Count} rollouts are not whole groups of n = {n}.");
        var groups = rollouts.Select((r, i) => (r, i)).GroupBy(x => x.i / n).ToList();
        var rewards = groups.Select(g => (IReadOnlyList<double?>)g.Select(x => outcomes[x.i].IsScoreValid ? outcomes[x.i].Score : (double?)null).ToList()).ToList();
        var result = Engine.Training.Advantages.Compute(rewards, JobOptions.Scaling(spec.Loss));
        // back to rollout order
        var flat = new double[rollouts.Count];
        for (int g = 0; g < groups.Count; g++)
        {
            int j = 0;
            foreach (var (_, i) in groups[g]) flat[i] = result.Advantages[g][j++];
        }
        return result with { Advantages = [flat] };
    }

    /// <summary>
    /// The sharded update: every rank computes gradients on its share → reduce-scatter to shard owners →
    /// global clip → owners step AdamW → all-gather. Returns the merged summary, grad norm and sync seconds.
    /// A non-finite global norm skips ApplyUpdate and AllGather on every rank alike, so no rank writes NaN
    /// into its shard and the ranks' AdamW step counters and weights stay equal; the norm is returned as it was.
    /// </summary>
    public async Task<(GradientSummary Summary, double GradNorm, double SyncSeconds)> Train(int step, IReadOnlyList<TrainSample> samples, double learningRate)
    {
        var ranks = cluster.Trainers;
        var ordered = samples.Select((s, i) => (s, i)).OrderBy(x => x.s.PromptIds.Length + x.s.CompletionIds.Length).ToList();
        var shares = Enumerable.Range(0, ranks.Count).Select(r => ordered.Where((_, i) => i % ranks.Count == r).Select(x => x.s).ToArray()).ToArray();
        int totalSequences = samples.Count;
        // token-level losses average over the tokens that train: the model's own, inside max_context_length
        long totalTokens = samples.Sum(s => (long)TrainSamples.TrainableWithin(s, spec.Training.MaxContextLength));
        var summaries = await Task.WhenAll(ranks.Select(async (t, r) =>
        {
            // Samples cross in parts of ≤ one message each (prompts once per part), then the rank computes.
            var parts = TrainBatchParts.Split(shares[r]);
            for (int p = 0; p < parts.Count; p++) await t.StageSamples(step, p, parts[p]);
            return await t.ComputeGradients(step, parts.Count, totalSequences, totalTokens);
        }));
        var sync = Stopwatch.StartNew();
        var squares = await Task.WhenAll(ranks.Select(t => t.ReduceScatter(step)));
        var (norm, scale) = GradientClipping.Coefficient(squares.Sum(), spec.Training.MaxGradNorm);
        if (!GradientClipping.IsSkipped(norm))
        {
            await Task.WhenAll(ranks.Select(t => t.ApplyUpdate(step, scale, learningRate)));
            await Task.WhenAll(ranks.Select(t => t.AllGather(step)));
        }
        var merged = summaries.Aggregate((a, b) => new GradientSummary(a.Loss + b.Loss, a.Tokens + b.Tokens, a.RatioSum + b.RatioSum,
            Math.Min(a.RatioMin, b.RatioMin), Math.Max(a.RatioMax, b.RatioMax), a.ClippedTokens + b.ClippedTokens, a.KlSum + b.KlSum,
            a.EntropySum + b.EntropySum, Math.Max(a.EngineSeconds, b.EngineSeconds)));
        return (merged, norm, sync.Elapsed.TotalSeconds);
    }

    public static byte[] RolloutLog(IEnumerable<Rollout> rollouts) =>
        System.Text.Encoding.UTF8.GetBytes(string.Concat(rollouts.Select(r => JsonSerializer.Serialize(r) + "\n")));

    public static List<Rollout> ReadRolloutLog(byte[] bytes) =>
        System.Text.Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonSerializer.Deserialize<Rollout>(l)!).ToList();
}
