using System.Diagnostics;
using Orleans.Rft.Engine.Training;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Grains.Jobs;

/// <summary>
/// A step's batch after scoring: the rollouts and outcomes to train on, the dataset cursor after
/// every row the step consumed (top-ups included), and what dynamic sampling did.
/// </summary>
public sealed record SampledBatch(
    List<PendingRollout> Rollouts, EvaluateOutcome[] Outcomes, (int Epoch, int Cursor, int[] Rows) Cursor,
    int DroppedGroups, int ResampleRounds, double RolloutSeconds, double EvaluationSeconds);

/// <summary>
/// Scores a step's rollouts and completes its batch as DAPO does (Yu et al. 2025, §3.2 and §3.4):
/// overlong shaping (<see cref="OverlongShaping"/>) on every valid score, then, when dynamic sampling
/// is on, groups without reward variance are dropped (<see cref="GroupFilter"/>) and the batch is
/// topped up with the next rows of the dataset cursor, at most <c>max_resample</c> rounds, each
/// asking for exactly the groups still missing. The cursor moves over every row taken, kept or
/// dropped, so a resumed job draws the same rows in the same order. Short after the last round, the
/// step trains on the groups it kept; if it kept none, on its first round's groups (as with dynamic
/// sampling off: zero advantages, only the KL term acts). Plain class: the job grain passes its
/// runner's rollout and evaluation calls in, tests pass fakes.
/// </summary>
/// <param name="rollouts">rows, seed → <c>n</c> rollouts per row, row by row in the given order</param>
public sealed class DynamicSampling(
    JobSpec spec, int datasetRows,
    Func<int[], long, Task<List<PendingRollout>>> rollouts,
    Func<IReadOnlyList<PendingRollout>, Task<EvaluateOutcome[]>> evaluate)
{
    /// <summary>Metric key under which each shaped outcome reports its overlong penalty.</summary>
    public const string OverlongPenaltyMetric = "overlong_penalty";

    /// <param name="first">the step's rollouts for <paramref name="cursor"/>'s rows</param>
    /// <param name="seed">the step's sampling seed; top-up round r samples with <see cref="TopUpSeed"/></param>
    public async Task<SampledBatch> Complete(List<PendingRollout> first, (int Epoch, int Cursor, int[] Rows) cursor, long seed)
    {
        var loss = spec.Loss;
        int n = spec.Inference.N, target = spec.Training.BatchPrompts;
        var watch = Stopwatch.StartNew();
        double rolloutSeconds = 0, evaluationSeconds = 0;

        var batch = first;
        var start = watch.Elapsed.TotalSeconds;
        var outcomes = Shape(batch, await evaluate(batch));
        evaluationSeconds += watch.Elapsed.TotalSeconds - start;
        if (!JobOptions.DynamicSampling(loss)) return new SampledBatch(batch, outcomes, cursor, 0, 0, 0, evaluationSeconds);

        var (firstRollouts, firstOutcomes) = (batch, outcomes);
        var keptRollouts = new List<PendingRollout>();
        var keptOutcomes = new List<EvaluateOutcome>();
        int evaluated = 0, kept = 0, round = 0;
        while (true)
        {
            var groups = Groups(batch, n);
            evaluated += groups.Count;
            var rewards = groups.Select(g => (IReadOnlyList<double?>)g.Select(i => outcomes[i].IsScoreValid ? outcomes[i].Score : (double?)null).ToList()).ToList();
            foreach (var g in GroupFilter.Kept(rewards))
            {
                keptRollouts.AddRange(groups[g].Select(i => batch[i]));
                keptOutcomes.AddRange(groups[g].Select(i => outcomes[i]));
                kept++;
            }
            if (kept >= target || round >= loss.MaxResample) break;

            round++;
            var (taken, epoch, next) = DatasetCursor.Take(datasetRows, target - kept, spec.Seed, cursor.Epoch, cursor.Cursor);
            cursor = (epoch, next, [.. cursor.Rows, .. taken]);
            start = watch.Elapsed.TotalSeconds;
            batch = await rollouts(taken, TopUpSeed(seed, round));
            rolloutSeconds += watch.Elapsed.TotalSeconds - start;
            start = watch.Elapsed.TotalSeconds;
            outcomes = Shape(batch, await evaluate(batch));
            evaluationSeconds += watch.Elapsed.TotalSeconds - start;
        }
        if (kept == 0)
            return new SampledBatch(firstRollouts, firstOutcomes, cursor, evaluated - firstRollouts.Count / n, round, rolloutSeconds, evaluationSeconds);
        return new SampledBatch(keptRollouts, keptOutcomes.ToArray(), cursor, evaluated - kept, round, rolloutSeconds, evaluationSeconds);
    }

    /// <summary>
    /// Round r's seed: far from every step's own seed (steps differ by 1, rounds by ~1e9), so no
    /// top-up repeats another step's samples.
    /// </summary>
    public static long TopUpSeed(long stepSeed, int round) => unchecked(stepSeed + round * 1_000_000_007L);

    /// <summary>Adds DAPO's overlong penalty to every valid score (off when <c>overlong_buffer</c> is 0).</summary>
    EvaluateOutcome[] Shape(IReadOnlyList<PendingRollout> batch, EvaluateOutcome[] outcomes)
    {
        var loss = spec.Loss;
        if (loss.OverlongBuffer == 0) return outcomes;
        return outcomes.Select((o, i) =>
        {
            if (!o.IsScoreValid) return o;
            var penalty = OverlongShaping.Penalty(batch[i].Completion.CompletionIds.Length, spec.Inference.MaxTokens, loss.OverlongBuffer, loss.OverlongPenalty);
            var metrics = new Dictionary<string, double>(o.Metrics) { [OverlongPenaltyMetric] = penalty };
            return o with { Score = o.Score + penalty, Metrics = metrics };
        }).ToArray();
    }

    /// <summary>Index lists of the groups: the rollout source returns each row's n samples together.</summary>
    static List<int[]> Groups(IReadOnlyList<PendingRollout> batch, int n)
    {
        if (batch.Count % n != 0) throw new InvalidOperationException($"{batch.Count} rollouts are not whole groups of n = {n}.");
        var groups = new List<int[]>();
        for (int start = 0; start < batch.Count; start += n)
        {
            var group = Enumerable.Range(start, n).ToArray();
            if (group.Any(i => batch[i].Row != batch[start].Row))
                throw new InvalidOperationException($"rollouts {start}…{start + n - 1} mix rows; the rollout source must return each row's n samples together.");
            groups.Add(group);
        }
        return groups;
    }
}
