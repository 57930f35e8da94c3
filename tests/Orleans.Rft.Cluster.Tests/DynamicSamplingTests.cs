using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// Dynamic sampling's orchestration over a fake rollout source: which groups are dropped, which rows
/// top the batch up, how far the cursor moves, and the bound on rounds.
/// </summary>
public sealed class DynamicSamplingTests
{
    const int DatasetRows = 10, N = 4, Batch = 4;
    const long Seed = 7, StepSeed = 123;

    /// <summary>
    /// n rollouts per row. The i-th row handed out (counting across calls, as the cursor hands them
    /// out) has signal iff <c>signal(i)</c>: rewards 0, 1, 0, 1; otherwise all 1 (zero variance).
    /// </summary>
    sealed class FakeSource(Func<int, bool> signal, int completionLength)
    {
        readonly Dictionary<PendingRollout, bool> hasSignal = new(ReferenceEqualityComparer.Instance);
        int handedOut;

        public List<(int[] Rows, long Seed)> Calls { get; } = new();

        public Task<List<PendingRollout>> Rollouts(int[] rows, long seed)
        {
            Calls.Add((rows, seed));
            return Task.FromResult(Make(rows));
        }

        public List<PendingRollout> Make(int[] rows) => rows.SelectMany(r =>
        {
            var withSignal = signal(handedOut++);
            return Enumerable.Range(0, N).Select(k =>
            {
                var rollout = new PendingRollout(r, k, 0, new GeneratedCompletion([1], Enumerable.Repeat(5, completionLength + k).ToArray(), new float[completionLength + k], "x", "stop"));
                hasSignal[rollout] = withSignal;
                return rollout;
            }).ToList();
        }).ToList();

        public Task<EvaluateOutcome[]> Evaluate(IReadOnlyList<PendingRollout> rollouts) => Task.FromResult(rollouts.Select(r =>
            new EvaluateOutcome(hasSignal[r] ? r.Sample % 2 : 1, true, "", new Dictionary<string, double>(), false, false)).ToArray());
    }

    static JobSpec Spec(string method, int maxResample = 3, int overlongBuffer = 0, int maxTokens = 8, bool? dynamic = null) => new(
        "t", "model", "data", null, "{}", new TrainingSpec(BatchPrompts: Batch), new InferenceSpec(N: N, MaxTokens: maxTokens),
        new LossSpec(method, MaxResample: maxResample, OverlongBuffer: overlongBuffer, DynamicSampling: dynamic), new CheckpointSpec(), 0, Seed, "/");

    static async Task<(SampledBatch Result, FakeSource Source, int[] Order)> Run(JobSpec spec, Func<int, bool> signal, int completionLength = 3)
    {
        var order = DatasetCursor.Take(DatasetRows, 40, Seed, 0, 0).Rows;     // the rows in the order the cursor hands them out
        var source = new FakeSource(signal, completionLength);
        var (rows, epoch, cursor) = DatasetCursor.Take(DatasetRows, Batch, Seed, 0, 0);
        var sampling = new DynamicSampling(spec, DatasetRows, source.Rollouts, source.Evaluate);
        var result = await sampling.Complete(source.Make(rows), (epoch, cursor, rows), StepSeed);
        return (result, source, order);
    }

    [Fact]
    public async Task Dapo_drops_zero_variance_groups_and_tops_up_with_exactly_the_missing_count_from_the_cursor()
    {
        // order[1], order[2] (first batch) and order[4] (first top-up) have no signal
        var (result, source, order) = await Run(Spec("dapo"), i => i is not (1 or 2 or 4));
        Assert.Equal([order[4..6], order[6..7]], source.Calls.Select(c => c.Rows));   // 2 missing, then 1
        Assert.Equal([DynamicSampling.TopUpSeed(StepSeed, 1), DynamicSampling.TopUpSeed(StepSeed, 2)], source.Calls.Select(c => c.Seed));
        Assert.Equal([order[0], order[3], order[5], order[6]], result.Rollouts.Select(r => r.Row).Distinct());
        Assert.Equal(Batch * N, result.Rollouts.Count);
        Assert.Equal(result.Rollouts.Count, result.Outcomes.Length);
        Assert.Equal((3, 2), (result.DroppedGroups, result.ResampleRounds));
        // The cursor moved over all 7 rows taken, exactly as one Take of 7: a resumed job continues after them.
        var (_, epoch, cursor) = DatasetCursor.Take(DatasetRows, 7, Seed, 0, 0);
        Assert.Equal((epoch, cursor), (result.Cursor.Epoch, result.Cursor.Cursor));
        Assert.Equal(order[..7], result.Cursor.Rows);
    }

    [Fact]
    public async Task Top_ups_continue_into_the_next_epoch_like_the_cursor_does()
    {
        // only the rows handed out from position 9 on (the last of epoch 0, then epoch 1) have signal: 3 rounds of top-ups cross the boundary
        var (result, source, order) = await Run(Spec("dapo", maxResample: 3), i => i >= 9);
        var taken = 4 + source.Calls.Sum(c => c.Rows.Length);
        Assert.Equal(13, taken);                                          // 4, then 4, 4 (3 kept: positions 9–11), 1
        var (_, epoch, cursor) = DatasetCursor.Take(DatasetRows, taken, Seed, 0, 0);
        Assert.Equal((epoch, cursor), (result.Cursor.Epoch, result.Cursor.Cursor));
        Assert.Equal(order[..taken], result.Cursor.Rows);
        Assert.True(result.Cursor.Epoch >= 1, $"expected to cross into epoch 1, cursor {result.Cursor}");
    }

    [Fact]
    public async Task Resampling_stops_after_max_resample_rounds_and_a_step_that_kept_nothing_trains_its_first_groups()
    {
        var (result, source, order) = await Run(Spec("dapo", maxResample: 2), _ => false);
        Assert.Equal(2, source.Calls.Count);
        Assert.Equal(2, result.ResampleRounds);
        Assert.Equal(order[..4], result.Rollouts.Select(r => r.Row).Distinct());      // the first round's groups
        Assert.Equal(8, result.DroppedGroups);                                        // 4 + 4 + 4 evaluated, 4 trained
    }

    [Fact]
    public async Task Off_by_default_for_grpo_the_batch_is_only_scored()
    {
        var (result, source, order) = await Run(Spec("grpo"), _ => false);
        Assert.Empty(source.Calls);
        Assert.Equal((0, 0), (result.DroppedGroups, result.ResampleRounds));
        Assert.Equal(order[..4], result.Rollouts.Select(r => r.Row).Distinct());
        var (_, epoch, cursor) = DatasetCursor.Take(DatasetRows, 4, Seed, 0, 0);
        Assert.Equal((epoch, cursor), (result.Cursor.Epoch, result.Cursor.Cursor));
        // …and on for any method that asks
        var (_, forcedSource, _) = await Run(Spec("grpo", dynamic: true), _ => false);
        Assert.Equal(3, forcedSource.Calls.Count);
    }

    [Fact]
    public async Task Overlong_shaping_lowers_scores_in_the_buffer_and_gives_an_all_correct_group_of_mixed_lengths_a_signal()
    {
        // completions of 4, 5, 6, 7 tokens, max_tokens 8, buffer 4 (free up to 4): penalties 0, −0.25, −0.5, −0.75
        var (result, source, _) = await Run(Spec("dapo", overlongBuffer: 4), _ => false, completionLength: 4);
        Assert.Empty(source.Calls);                                   // every all-correct group now has variance: nothing dropped
        Assert.Equal([1.0, 0.75, 0.5, 0.25], result.Outcomes.Take(4).Select(o => o.Score));
        Assert.Equal([0.0, -0.25, -0.5, -0.75], result.Outcomes.Take(4).Select(o => o.Metrics[DynamicSampling.OverlongPenaltyMetric]));
        // with dynamic sampling off the scores are shaped all the same
        var (plain, _, _) = await Run(Spec("grpo", overlongBuffer: 4), _ => false, completionLength: 4);
        Assert.Equal([1.0, 0.75, 0.5, 0.25], plain.Outcomes.Take(4).Select(o => o.Score));
    }
}

[Collection(ClusterCollection.Name)]
public sealed class DynamicSamplingJobTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_dapo_job_trains_only_groups_with_reward_variance_unless_it_ran_out_of_rounds_and_counts_what_it_dropped()
    {
        var spec = fixture.Spec("dapo-ds", trainers: 1, maxSteps: 3) with { Loss = new LossSpec("dapo", MaxResample: 2) };
        var snapshot = await fixture.RunToEnd("dapo-ds", spec);
        Assert.True(snapshot.Status == JobStatus.Completed, snapshot.LastError);
        var job = fixture.Cluster.Client.GetGrain<IJobGrain>("dapo-ds");
        var history = await job.GetHistory(0);
        Assert.Equal(3, history.Count);
        foreach (var h in history)
        {
            var rollouts = await Client.Jobs.RolloutReader.ReadAllAsync(job, h.Step - 1);
            var groups = rollouts.Chunk(8).ToList();                  // n = 8, each row's samples together
            var flat = groups.Count(g => g.All(r => r.Reward == g[0].Reward));
            Assert.InRange(h.ResampleRounds, 0, 2);
            if (h.ResampleRounds < 2) Assert.Equal(4, groups.Count);  // filled: exactly batch_prompts groups
            if (groups.Count < 4 || flat > 0) Assert.Equal(2, h.ResampleRounds); // short or flat only when the rounds ran out
            // a top-up round runs exactly when a group was dropped (max_resample > 0)
            Assert.Equal(h.DroppedGroups > 0, h.ResampleRounds > 0);
        }
        Assert.True(history.Sum(h => h.DroppedGroups) > 0, "the untrained toy policy rarely hits the target: some groups must have been all-zero");
    }
}
