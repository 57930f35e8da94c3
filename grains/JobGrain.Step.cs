using Microsoft.Extensions.Logging;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs;

namespace Orleans.Rft.Grains;

public sealed partial class JobGrain
{
    const int MaxEvalRows = 256;

    /// <summary>
    /// Brings up the rollout workers and trainer ranks (after activation or any failure) as a new run
    /// generation, rolled back to the newest intact checkpoint — adapter, optimizer shards and cursor —
    /// or to the start, whatever step the lost run had reached. Damaged checkpoints are passed over,
    /// and said so in the job's events.
    /// </summary>
    async Task EnsureCluster()
    {
        if (runner is not null) return;
        var spec = S.Spec!;
        if (rows.Count == 0) await LoadData();
        if (cluster is not null) await cluster.Release(); // the abandoned generation frees its device memory now
        // Ranks an earlier activation started (it was lost or collected): not awaited, since a rank on a silo
        // that died but is not yet declared dead answers only at the release timeout, and recovery need not wait.
        else if (S.TrainerKeys.Count > 0) _ = StepCluster.Abandoned(GrainFactory, S.TrainerKeys.ToList()).Release();
        var drained = string.Join(", ", S.DrainingSilos); // named in the event; the wait forgets the silos that are gone
        if (S.MovedForDrain) await Elastic.UntilDrainedLeft();
        cluster = await StepCluster.Discover(GrainFactory, siloMetadata, JobId, spec.Training.Trainers, Elastic);
        var (lostStep, lostVersion) = (S.Step, S.PolicyVersion);
        var resume = JobRollback.Apply(S, await Checkpoints.NewestIntact(S));
        await Checkpoints.RetireOrphans(S);
        if (S.MovedForDrain && (S.Step, S.PolicyVersion) == (lostStep, lostVersion))
            await RecordEvent("drained", $"run {S.Generation} continues at step {S.Step} from {resume ?? "the start"}: trainer ranks moved off a draining silo ({drained}), no step lost");
        else if (lostStep > 0 || lostVersion > 0)
            await RecordEvent("rollback", $"run {S.Generation} resumes at step {S.Step} from {resume ?? "the start"} (the lost run had reached step {lostStep}, policy v{lostVersion})");
        S.MovedForDrain = false;
        S.TrainerKeys = cluster.TrainerKeys.ToList();
        await WriteState(); // the rolled-back state names the new ranks before any of them holds device memory
        var setups = cluster.Trainers.Select((t, r) => t.Initialize(new TrainerSetup(JobId, spec, cluster.Trainers.Count, r, cluster.TrainerKeys.ToArray(), resume, S.TotalSteps)));
        await Task.WhenAll(setups);
        runner = new JobStepRunner(spec, rows, rowJson, cluster, GrainFactory) { JobId = JobId };
        if (S.BaselineEval is null && evalRows.Count > 0) S.BaselineEval = S.LatestEval = await Evaluate(null, -1);
        await WriteState();
    }

    async Task RunOneStep()
    {
        await EnsureCluster();
        var spec = S.Spec!;
        if (S.Step >= S.TotalSteps) { await Complete(); return; }
        var watch = Stopwatch.StartNew();
        int step = S.Step;
        var n = spec.Inference.N;
        using var activity = Telemetry.RftTelemetry.Activities.StartActivity("rft.step");
        activity?.SetTag("rft.step", step);

        // 1–2. rows and rollouts: queued up to max_staleness steps ahead, so step t+k samples with
        // version t while steps t…t+k−1 train; the importance ratio corrects for the lag (≤ k).
        List<PendingRollout> rollouts;
        (int Epoch, int Cursor, int[] Rows) cursor;
        if (prefetched.TryDequeue(out var ready))
        {
            rollouts = await ready.Rollouts;
            cursor = ready.Cursor;
        }
        else
        {
            var (taken, epoch, next) = DatasetCursor.Take(rows.Count, spec.Training.BatchPrompts, spec.Seed, S.Epoch, S.Cursor);
            cursor = (epoch, next, taken);
            rollouts = await runner!.Rollouts(taken, n, S.AdapterPath, S.PolicyVersion, spec.Seed * 100_003 + step, spec.Inference.Temperature, step);
        }
        var rolloutSeconds = watch.Elapsed.TotalSeconds;
        var queuedUpTo = prefetched.Count > 0 ? prefetched.Last().Cursor : cursor;
        for (int ahead = step + 1 + prefetched.Count; prefetched.Count < spec.Loss.MaxStaleness && ahead < S.TotalSteps; ahead++)
        {
            var (taken, epoch, next) = DatasetCursor.Take(rows.Count, spec.Training.BatchPrompts, spec.Seed, queuedUpTo.Epoch, queuedUpTo.Cursor);
            queuedUpTo = (epoch, next, taken);
            prefetched.Enqueue(new PrefetchedBatch(
                runner!.Rollouts(taken, n, S.AdapterPath, S.PolicyVersion, spec.Seed * 100_003 + ahead, spec.Inference.Temperature, ahead), queuedUpTo, S.AdapterPath));
        }

        // 3. scores, DAPO's overlong shaping and dynamic sampling (zero-variance groups out, topped up from the cursor)
        var filled = await new DynamicSampling(spec, rows.Count, (taken, seed) => runner!.Rollouts(taken, n, S.AdapterPath, S.PolicyVersion, seed,
            spec.Inference.Temperature), runner!.Evaluate).Complete(rollouts, cursor, spec.Seed * 100_003 + step);
        (rollouts, cursor, rolloutSeconds) = (filled.Rollouts, filled.Cursor, rolloutSeconds + filled.RolloutSeconds);
        var (outcomes, evaluationSeconds) = (filled.Outcomes, filled.EvaluationSeconds);
        if (rollouts.Count > 0 && rollouts.All(r => Services.AgentCompletions.Failed(r.Completion.Agent)))
            throw AgentRolloutsFailedException.Of(step, rollouts);

        // 4. advantages
        var advantages = runner.Advantages(rollouts, outcomes);
        var adv = advantages.Advantages[0];
        // Sequences with nothing to train inside max_context_length stay out (they would only count in GRPO's sequence mean);
        // what the window cut is reported in the step metrics.
        var trainable = rollouts.SelectMany((r, i) => TrainSamples.Of(r.Completion, adv[i])).Where(s => s.TrainableTokens > 0).ToList();
        var samples = trainable.Where(s => TrainSamples.TrainableWithin(s, spec.Training.MaxContextLength) > 0).ToList();

        // 5–6. sharded update, 7. publish
        var trainStart = watch.Elapsed.TotalSeconds;
        var lr = JobOptions.Schedule(spec, S.TotalSteps).At(step);
        var (summary, gradNorm, syncSeconds) = await runner.Train(step, samples, lr);
        var version = S.PolicyVersion + 1;
        var previous = S.AdapterPath;
        S.AdapterPath = await cluster!.Trainers[0].PublishAdapter(JobPaths.Adapter(JobId, S.Generation, version));
        S.PolicyVersion = version;
        var trainSeconds = watch.Elapsed.TotalSeconds - trainStart;

        (S.Epoch, S.Cursor) = (cursor.Epoch, cursor.Cursor);
        S.Step = step + 1;
        var log = rollouts.Select((r, i) => new Rollout(step, rows[r.Row].Line, r.Sample, r.Version, r.Completion.PromptIds, r.Completion.CompletionIds,
            r.Completion.LogProbs, r.Completion.Text, r.Completion.FinishReason, outcomes[i].Score, outcomes[i].IsScoreValid, outcomes[i].Reason,
            outcomes[i].Metrics, adv[i], r.Completion.Mask, r.Completion.Agent, r.Completion.Extra?.Length ?? 0));
        await artifacts.WriteAsync(JobPaths.Rollouts(JobId, step), JobStepRunner.RolloutLog(log));

        double? evalReward = null;
        if (spec.EvalEvery > 0 && evalRows.Count > 0 && (S.Step % spec.EvalEvery == 0 || S.Step == S.TotalSteps))
            evalReward = S.LatestEval = await Evaluate(S.AdapterPath, S.PolicyVersion);
        var metrics = StepMetricsBuilder.Build(step + 1, version, rollouts, outcomes, advantages, summary, gradNorm, lr,
            rolloutSeconds, evaluationSeconds, trainSeconds, syncSeconds, watch.Elapsed.TotalSeconds, evalReward, spec.Inference.MaxTokens,
            filled.DroppedGroups, filled.ResampleRounds, trainable, spec.Training.MaxContextLength);
        S.History.Add(metrics);
        Telemetry.RftTelemetry.RecordStep(metrics, spec.Loss.Method, rollouts.Count);
        if (S.History.Count > JobState.MaxHistory) S.History.RemoveRange(0, S.History.Count - JobState.MaxHistory); // older steps: the metrics segments
        await AppendMetrics(metrics);

        bool best = evalReward is double e && (S.BestEval is null || e > S.BestEval);
        if (best) { S.BestEval = evalReward; S.BestStep = S.Step; }
        if (previous is not null) S.RetiredAdapters.Add(previous);
        S.UpdatedAt = DateTimeOffset.UtcNow;
        S.LastError = null;
        consecutiveFailures = 0;
        // Data, pointer, deletion: a checkpoint's files are whole before the state names it, and
        // nothing the written state still names is deleted (a crash anywhere leaves a resumable job).
        if (spec.Checkpoint.EverySteps > 0 && (S.Step % spec.Checkpoint.EverySteps == 0 || S.Step == S.TotalSteps) || (best && spec.Checkpoint.KeepBest))
            await Checkpoints.Write(S, cluster.Trainers, best);
        await Checkpoints.CommitAsync(S, WriteState, adapter => prefetched.Any(p => p.AdapterPath == adapter));
        if (S.Step >= S.TotalSteps) await Complete();
    }

    /// <summary>Mean reward of one sample per eval row (greedy unless eval_temperature says otherwise).</summary>
    async Task<double> Evaluate(string? adapter, int version)
    {
        var evalRunner = new JobStepRunner(S.Spec!, evalRows, evalRowJson, cluster!, GrainFactory) { JobId = JobId };
        var rollouts = await evalRunner.Rollouts(Enumerable.Range(0, evalRows.Count).ToArray(), 1, adapter, version, S.Spec!.Seed, S.Spec.Inference.EvalTemperature, -1 - Math.Max(version, 0));
        var outcomes = await evalRunner.Evaluate(rollouts);
        return outcomes.Average(o => o.IsScoreValid ? o.Score : 0);
    }

    /// <summary>
    /// Adds the step's line to its metrics segment. Only that segment (≤ 100 lines) is rewritten, so a
    /// step costs the same at step 10 and 10,000; lines for this step or later, left by a run that
    /// rolled back to a checkpoint, are dropped so every step appears once.
    /// </summary>
    async Task AppendMetrics(StepMetrics metrics)
    {
        var path = JobPaths.Metrics(JobId, metrics.Step);
        var existing = await artifacts.ReadAsync(path);
        var kept = existing is null ? [] : Encoding.UTF8.GetString(existing).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => JsonSerializer.Deserialize<StepMetrics>(line)!.Step < metrics.Step);
        await artifacts.WriteAsync(path, Encoding.UTF8.GetBytes(string.Concat(kept.Select(l => l + "\n")) + JsonSerializer.Serialize(metrics) + "\n"));
    }

    async Task Complete()
    {
        while (prefetched.TryDequeue(out var left)) { try { await left.Rollouts; } catch { } }
        await Finish(JobStatus.Completed, null);
    }
}
