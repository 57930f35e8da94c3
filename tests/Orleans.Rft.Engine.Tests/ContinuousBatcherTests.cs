using Orleans.Rft.Engine.Lora;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.Engine.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Tests;

/// <summary>
/// The continuous-batching scheduler: rows join and leave between decode steps, use different
/// adapters over one base, and each row's tokens are what the same request gives alone.
/// </summary>
public sealed class ContinuousBatcherTests : IDisposable
{
    static readonly int[][] Prompts = [[1, 2, 3, 4, 5], [7, 8], [9, 10, 11], [40, 41, 42, 43, 44, 45, 46], [100]];
    readonly LanguageModel model = TestModels.Micro();
    readonly List<IDisposable> owned = new();

    public void Dispose()
    {
        foreach (var d in owned) d.Dispose();
        model.Dispose();
    }

    /// <summary>A PEFT adapter folder with random (non-zero) A and B of the given shape, written by the training path's exporter.</summary>
    static string AdapterFolder(LoraConfig lora, long seed)
    {
        using var trained = TestModels.Micro();
        trained.AttachLora(lora, seed);
        using (no_grad())
        {
            using var g = new Generator((ulong)seed);
            foreach (var (_, p) in trained.LoraParameters()) p.copy_(randn(p.shape, generator: g) * 0.5);
        }
        var dir = TestModels.TempDirectory("adapter");
        PeftAdapter.Save(trained, dir);
        return dir;
    }

    LoraWeights Load(string folder)
    {
        var w = LoraWeights.Load(folder, model.Network);
        owned.Add(w);
        return w;
    }

    /// <summary>Runs the submissions in one batcher to the end (all submitted before the first step).</summary>
    GeneratedSequence[] Run(IEnumerable<SequenceSubmission> submissions, BatcherOptions? options = null)
    {
        using var batcher = new ContinuousBatcher(model, options);
        var handles = submissions.Select(batcher.Submit).ToList();
        while (batcher.HasWork) batcher.Step();
        return handles.Select(h => h.Completion.GetAwaiter().GetResult()).ToArray();
    }

    GeneratedSequence Alone(SequenceSubmission s) => Run([s])[0];

    static void AssertSame(GeneratedSequence expected, GeneratedSequence actual, string what)
    {
        Assert.True(expected.TokenIds.SequenceEqual(actual.TokenIds), $"{what}: [{string.Join(",", actual.TokenIds)}] ≠ alone [{string.Join(",", expected.TokenIds)}]");
        for (int i = 0; i < expected.PolicyLogProbs.Length; i++)
            Assert.True(Math.Abs(expected.PolicyLogProbs[i] - actual.PolicyLogProbs[i]) < 1e-4, $"{what}: policy log-prob {i} {actual.PolicyLogProbs[i]} ≠ {expected.PolicyLogProbs[i]}");
        Assert.Equal(expected.FinishReason, actual.FinishReason);
        Assert.Equal(expected.Text, actual.Text);
    }

    [Fact]
    public void Two_adapters_of_different_ranks_and_alphas_in_one_batch_each_row_equals_the_same_request_served_alone()
    {
        var r2Folder = AdapterFolder(new LoraConfig(Rank: 2, Alpha: 4, TargetModules: ["q_proj", "v_proj", "down_proj"]), seed: 3);
        var r8Folder = AdapterFolder(new LoraConfig(Rank: 8, Alpha: 32), seed: 4);
        var r2 = Load(r2Folder);
        var r8 = Load(r8Folder);
        var greedy = new SamplingOptions(Temperature: 0, MaxTokens: 10, StopTokenIds: [], IgnoreEos: true);
        var sampled = new SamplingOptions(Temperature: 0.9, TopK: 40, MaxTokens: 10, IgnoreEos: true);
        var rows = new List<SequenceSubmission>
        {
            new(Prompts[0], greedy, null, r2), new(Prompts[0], greedy, null, r8), new(Prompts[0], greedy),
            new(Prompts[1], sampled, 11, r2), new(Prompts[1], sampled, 11, r8), new(Prompts[2], sampled with { TopP = 0.8 }, 12),
            new(Prompts[3], greedy, null, r8), new(Prompts[4], sampled, 13, r2),
        };
        var batched = Run(rows);
        for (int i = 0; i < rows.Count; i++) AssertSame(Alone(rows[i]), batched[i], $"row {i}");
        // The adapters are policies of their own: each changes what the base says, and differently.
        Assert.False(batched[0].TokenIds.SequenceEqual(batched[2].TokenIds) && batched[1].TokenIds.SequenceEqual(batched[2].TokenIds), "neither adapter changed the greedy tokens; the test cannot tell adapters apart");
        Assert.NotEqual(batched[3].PolicyLogProbs, batched[4].PolicyLogProbs);

        // Routed math equals the training path's attached adapter: the same model with the adapter loaded into its layers.
        using var attached = LanguageModel.Load(model.Directory);
        PeftAdapter.Load(attached, r8Folder);
        var reference = Sampler.Generate(attached, [Prompts[0], Prompts[3]], greedy);
        Assert.Equal(reference[0].TokenIds, batched[1].TokenIds);
        Assert.Equal(reference[1].TokenIds, batched[6].TokenIds);
    }

    [Fact]
    public void A_seeded_row_gives_the_same_tokens_alone_and_joining_a_running_batch_of_other_adapters_and_settings()
    {
        var r4 = Load(AdapterFolder(new LoraConfig(Rank: 4, Alpha: 8), seed: 5));
        var r1 = Load(AdapterFolder(new LoraConfig(Rank: 1, Alpha: 2, TargetModules: ["o_proj"]), seed: 6));
        var probe = new SequenceSubmission(Prompts[2], new SamplingOptions(Temperature: 1.0, TopP: 0.95, MaxTokens: 12, IgnoreEos: true), Seed: 77, Adapter: r4);
        var alone = Alone(probe);
        using var batcher = new ContinuousBatcher(model);
        var others = new List<SequenceHandle>();
        for (int i = 0; i < 6; i++)
            others.Add(batcher.Submit(new SequenceSubmission(Prompts[i % Prompts.Length],
                new SamplingOptions(Temperature: 0.3 + 0.2 * i, TopK: i * 3, MaxTokens: 6 + 3 * i, IgnoreEos: true), Seed: 1000 + i, Adapter: i % 3 == 0 ? r1 : i % 3 == 1 ? r4 : null)));
        for (int s = 0; s < 3; s++) batcher.Step();
        var joined = batcher.Submit(probe);
        while (batcher.HasWork) batcher.Step();
        AssertSame(alone, joined.Completion.Result, "the probe row");
        Assert.All(others, h => Assert.True(h.Completion.IsCompletedSuccessfully));
        // Another seed draws other tokens: the test would notice a seed that is ignored.
        Assert.NotEqual(alone.TokenIds, Alone(probe with { Seed = 78 }).TokenIds);
    }

    [Fact]
    public void A_sequence_that_joins_while_31_others_decode_gets_its_first_token_in_the_next_step_before_theirs()
    {
        // The invariant: an arrival's first token comes out of the first step after it is submitted,
        // right after its own prefill, ahead of that step's tokens of the rows already decoding — so
        // its wait is the step in progress plus its prefill, never a full decode step more.
        using var batcher = new ContinuousBatcher(model);
        var reported = new List<(long Step, int Row)>();
        var running = Enumerable.Range(0, 31).Select(i => batcher.Submit(new SequenceSubmission(Prompts[i % Prompts.Length],
            new SamplingOptions(Temperature: 1.0, MaxTokens: 40, IgnoreEos: true), Seed: i,
            OnToken: _ => reported.Add((batcher.Steps, i))))).ToList();
        for (int s = 0; s < 5; s++) batcher.Step();
        Assert.Equal(31, batcher.ActiveRows);
        long stepsAtJoin = batcher.Steps, firstTokenAt = -1;
        var joiner = batcher.Submit(new SequenceSubmission(Prompts[0], new SamplingOptions(Temperature: 0, MaxTokens: 5),
            OnToken: _ => { if (firstTokenAt < 0) { firstTokenAt = batcher.Steps; reported.Add((batcher.Steps, -1)); } })); // called inside the step, which has already counted itself
        batcher.Step();
        Assert.Equal(stepsAtJoin + 1, firstTokenAt);
        var joinStep = reported.Where(r => r.Step == firstTokenAt).Select(r => r.Row).ToList();
        Assert.Equal(32, joinStep.Count);                                  // every running row still got its token of that step
        Assert.Equal(-1, joinStep[0]);                                     // the joiner's came first
        Assert.Equal(32, batcher.ActiveRows);
        while (batcher.HasWork) batcher.Step();
        Assert.True(running.All(r => r.Completion.Result.TokenIds.Length == 40));
        Assert.Equal(5, joiner.Completion.Result.TokenIds.Length);
    }

    [Fact]
    public void A_sequence_whose_cache_cannot_be_allocated_ends_with_the_error_and_the_running_rows_go_on()
    {
        // The invariant: every submitted sequence ends (completed, failed or cancelled), even when the
        // KV cache cannot grow for it; a caller never waits forever, and the batch keeps serving.
        using var batcher = new ContinuousBatcher(model);
        var running = batcher.Submit(new SequenceSubmission(Prompts[0], new SamplingOptions(Temperature: 0, MaxTokens: 12, IgnoreEos: true)));
        batcher.Step();
        // ~2·10⁹ positions per slot: terabytes, which the allocator refuses at once
        var huge = batcher.Submit(new SequenceSubmission(Prompts[1], new SamplingOptions(Temperature: 0, MaxTokens: int.MaxValue - 64, IgnoreEos: true)));
        for (int s = 0; s < 3 && !huge.Completion.IsCompleted; s++) batcher.Step();
        Assert.True(huge.Completion.IsFaulted, $"the sequence that did not fit is {huge.Completion.Status}");
        Assert.Equal(1, batcher.ActiveRows);
        Assert.Equal(0, batcher.WaitingRows);
        while (batcher.HasWork) batcher.Step();
        Assert.Equal(12, running.Completion.Result.TokenIds.Length);
        var after = batcher.Submit(new SequenceSubmission(Prompts[2], new SamplingOptions(Temperature: 0, MaxTokens: 4, IgnoreEos: true)));
        while (batcher.HasWork) batcher.Step();
        Assert.Equal(4, after.Completion.Result.TokenIds.Length);
    }

    [Fact]
    public void Rows_that_finish_leave_the_batch_and_the_compacted_cache_keeps_every_other_row_intact()
    {
        // Rows of different lengths finish at different steps (first, middle, last slots): the rows moved
        // into their slots must carry their own keys and values, or their tokens would change.
        var lengths = new[] { 3, 14, 5, 9, 2, 12, 7 };
        var rows = lengths.Select((n, i) => new SequenceSubmission(Prompts[i % Prompts.Length],
            new SamplingOptions(Temperature: i % 2 == 0 ? 0 : 1.0, MaxTokens: n, IgnoreEos: true), Seed: 50 + i)).ToList();
        using var batcher = new ContinuousBatcher(model);
        var handles = rows.Select(batcher.Submit).ToList();
        var active = new List<int>();
        while (batcher.HasWork) { batcher.Step(); active.Add(batcher.ActiveRows); }
        Assert.Equal(lengths.Max(), active.Count);
        Assert.Equal(Enumerable.Range(1, lengths.Max()).Select(k => lengths.Count(n => n > k)), active); // a row leaves at the step of its last token
        for (int i = 0; i < rows.Count; i++)
        {
            var seq = handles[i].Completion.Result;
            Assert.Equal(lengths[i], seq.TokenIds.Length);
            AssertSame(Alone(rows[i]), seq, $"row {i}");
        }
    }

    [Fact]
    public void Stop_strings_and_stop_ids_end_only_their_own_row_and_streamed_text_never_shows_a_stop_string()
    {
        var free = Alone(new SequenceSubmission(Prompts[0], new SamplingOptions(Temperature: 0, MaxTokens: 12, IgnoreEos: true)));
        var stopId = free.TokenIds[4];
        var stopText = model.Tokenizer.Decode(free.TokenIds.Skip(5).Take(2), skipSpecialTokens: true);
        Assert.False(string.IsNullOrEmpty(stopText) || stopText.Contains('\uFFFD'), "the micro model's greedy text has no usable stop string here");
        var streamed = new Dictionary<int, string> { [0] = "", [1] = "", [2] = "" };
        SequenceSubmission Row(int i, SamplingOptions o) => new(Prompts[0], o, OnToken: t => streamed[i] += t.TextDelta);
        var rows = new[]
        {
            Row(0, new SamplingOptions(Temperature: 0, MaxTokens: 12, IgnoreEos: true, StopTokenIds: [stopId])),
            Row(1, new SamplingOptions(Temperature: 0, MaxTokens: 12, IgnoreEos: true, Stop: [stopText])),
            Row(2, new SamplingOptions(Temperature: 0, MaxTokens: 12, IgnoreEos: true)),
        };
        var result = Run(rows);
        Assert.Equal(FinishReason.Stop, result[0].FinishReason);
        Assert.Equal(free.TokenIds.TakeWhile(t => t != stopId).Count() + 1, result[0].TokenIds.Length);
        Assert.Equal(FinishReason.Stop, result[1].FinishReason);
        Assert.DoesNotContain(stopText, result[1].Text);
        Assert.DoesNotContain(stopText, streamed[1]);
        Assert.True(free.Text.StartsWith(result[1].Text, StringComparison.Ordinal));
        Assert.Equal(FinishReason.Length, result[2].FinishReason);
        Assert.Equal(free.TokenIds, result[2].TokenIds);
        for (int i = 0; i < 3; i++) Assert.Equal(result[i].Text, streamed[i]);
    }

    [Fact]
    public void Reported_log_probs_equal_log_softmax_of_a_plain_forward_over_the_generated_tokens()
    {
        var rows = new[]
        {
            new SequenceSubmission(Prompts[3], new SamplingOptions(Temperature: 0.7, MaxTokens: 6, IgnoreEos: true, LogProbs: 3), Seed: 9),
            new SequenceSubmission(Prompts[1], new SamplingOptions(Temperature: 0, MaxTokens: 6, IgnoreEos: true)),
        };
        var result = Run(rows);
        Assert.Null(result[1].RawLogProbs);                            // only the row that asked gets them
        var seq = result[0];
        Assert.NotNull(seq.RawLogProbs);
        using var _ = no_grad();
        var ids = Prompts[3].Concat(seq.TokenIds).Select(i => (long)i).ToArray();
        var logp = model.Network.Forward(tensor(ids).unsqueeze(0)).log_softmax(-1)[0];   // (T, V), T = 1
        for (int i = 0; i < seq.TokenIds.Length; i++)
        {
            var row = logp[Prompts[3].Length - 1 + i];
            Assert.Equal(row[seq.TokenIds[i]].ToSingle(), seq.RawLogProbs![i], 4);
            var (values, indices) = row.topk(3);
            Assert.Equal(3, seq.TopLogProbs![i].Count);
            for (int k = 0; k < 3; k++)
            {
                Assert.Equal(indices[k].ToInt32(), seq.TopLogProbs[i][k].Id);
                Assert.Equal(values[k].ToSingle(), seq.TopLogProbs[i][k].LogProb, 4);
            }
            // and the policy log-prob is under the tempered distribution softmax(logits / 0.7)
            var tempered = (model.Network.Forward(tensor(ids).unsqueeze(0))[0][Prompts[3].Length - 1 + i] / 0.7).log_softmax(-1);
            Assert.Equal(tempered[seq.TokenIds[i]].ToSingle(), seq.PolicyLogProbs[i], 4);
        }
    }

    [Fact]
    public void A_joiner_that_does_not_fit_the_kv_budget_waits_until_rows_leave()
    {
        // Each row needs prompt 5 + 8 new tokens = 13 positions: a budget of 30 holds two rows, not three.
        var o = new SamplingOptions(Temperature: 0, MaxTokens: 8, IgnoreEos: true);
        var rows = Enumerable.Range(0, 3).Select(i => new SequenceSubmission(Prompts[0], o with { MaxTokens = 8 - i })).ToList();
        using var batcher = new ContinuousBatcher(model, new BatcherOptions(KvBudgetTokens: 30));
        var handles = rows.Select(batcher.Submit).ToList();
        batcher.Step();
        Assert.Equal(2, batcher.ActiveRows);
        Assert.Equal(1, batcher.WaitingRows);
        while (batcher.HasWork) batcher.Step();
        Assert.True(handles[2].FirstTokenStep > 7, $"the third row started at step {handles[2].FirstTokenStep}, before a row left (step 7)");
        AssertSame(Alone(rows[2]), handles[2].Completion.Result, "the waiting row");
    }

    [Fact]
    public void A_cache_grown_for_a_long_request_shrinks_back_when_it_leaves_and_the_remaining_rows_are_unchanged()
    {
        var shortRows = Enumerable.Range(0, 2).Select(i => new SequenceSubmission(Prompts[i], new SamplingOptions(Temperature: 1.0, MaxTokens: 12, IgnoreEos: true), Seed: 30 + i)).ToList();
        using var batcher = new ContinuousBatcher(model);
        var longRow = batcher.Submit(new SequenceSubmission(Prompts[3], new SamplingOptions(Temperature: 1.0, MaxTokens: 500, IgnoreEos: true), Seed: 3));
        var handles = shortRows.Select(batcher.Submit).ToList();
        batcher.Step();
        long grown = batcher.CachePositions;
        Assert.True(grown >= 3 * 500, $"{grown} positions for a 500-token row");
        batcher.Step();
        longRow.Cancel();
        batcher.Step();
        Assert.True(batcher.CachePositions * 10 < grown, $"{batcher.CachePositions} positions after the long row left (was {grown})");
        while (batcher.HasWork) batcher.Step();
        for (int i = 0; i < shortRows.Count; i++) AssertSame(Alone(shortRows[i]), handles[i].Completion.Result, $"row {i}");
    }

    [Fact]
    public void A_cancelled_row_ends_with_cancellation_and_its_companions_continue_unchanged()
    {
        var o = new SamplingOptions(Temperature: 1.0, MaxTokens: 10, IgnoreEos: true);
        var rows = Enumerable.Range(0, 4).Select(i => new SequenceSubmission(Prompts[i], o, Seed: 20 + i)).ToList();
        using var batcher = new ContinuousBatcher(model);
        var handles = rows.Select(batcher.Submit).ToList();
        for (int s = 0; s < 3; s++) batcher.Step();
        handles[1].Cancel();
        while (batcher.HasWork) batcher.Step();
        Assert.True(handles[1].Completion.IsCanceled);
        foreach (var i in new[] { 0, 2, 3 }) AssertSame(Alone(rows[i]), handles[i].Completion.Result, $"row {i}");
    }
}
