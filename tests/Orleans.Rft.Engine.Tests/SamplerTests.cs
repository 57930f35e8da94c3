using Orleans.Rft.Engine.Sampling;
using Orleans.Rft.Engine.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Tests;

public sealed class SamplerTests
{
    static readonly int[][] Prompts = [[1, 2, 3, 4, 5], [7, 8], [9, 10, 11]];

    [Fact]
    public void The_same_seed_gives_the_same_tokens_and_another_seed_does_not()
    {
        using var model = TestModels.Micro();
        var o = new SamplingOptions(Temperature: 1.0, MaxTokens: 12, Seed: 7, StopTokenIds: []);
        var a = Sampler.Generate(model, Prompts, o);
        var b = Sampler.Generate(model, Prompts, o);
        var c = Sampler.Generate(model, Prompts, o with { Seed = 8 });
        Assert.Equal(a.Select(s => s.TokenIds), b.Select(s => s.TokenIds));
        Assert.NotEqual(a.Select(s => s.TokenIds), c.Select(s => s.TokenIds));
    }

    [Fact]
    public void Each_row_draws_from_its_own_seeded_generator_so_a_row_sampled_in_a_batch_equals_the_row_sampled_alone()
    {
        // The bug this catches: one generator shared by the batch, so a row's draws depend on which rows it was merged with.
        using var model = TestModels.Micro();
        var o = new SamplingOptions(Temperature: 1.0, MaxTokens: 12, Seed: 11, StopTokenIds: []);
        var batched = Sampler.Generate(model, Prompts, o);
        for (int i = 0; i < Prompts.Length; i++)
        {
            var alone = Sampler.Generate(model, [Prompts[i]], o with { Seed = null, RowSeeds = [SamplingOptions.RowSeed(11, i)] })[0];
            Assert.Equal(batched[i].TokenIds, alone.TokenIds);
            Assert.Equal(batched[i].PolicyLogProbs, alone.PolicyLogProbs, (a, b) => Math.Abs(a - b) < 1e-4);
        }
        // Two requests merged into one batch (each with its own seed) give what each gives alone.
        var first = Sampler.Generate(model, Prompts[..2], o with { Seed = 5 });
        var second = Sampler.Generate(model, Prompts[2..], o with { Seed = 6 });
        var merged = Sampler.Generate(model, Prompts, o with { Seed = null, RowSeeds = [SamplingOptions.RowSeed(5, 0), SamplingOptions.RowSeed(5, 1), SamplingOptions.RowSeed(6, 0)] });
        Assert.Equal(first.Concat(second).Select(s => s.TokenIds), merged.Select(s => s.TokenIds));
        // Identical prompts in one batch still get different draws (the rows' seeds differ).
        var same = Sampler.Generate(model, Enumerable.Repeat(Prompts[0], 4).ToList(), o);
        Assert.True(same.Select(s => string.Join(",", s.TokenIds)).Distinct().Count() > 1);
    }

    [Fact]
    public void Greedy_batched_generation_equals_greedy_generation_of_each_prompt_alone()
    {
        using var model = TestModels.Micro();
        var o = new SamplingOptions(Temperature: 0, MaxTokens: 10);
        var batched = Sampler.Generate(model, Prompts, o);
        for (int i = 0; i < Prompts.Length; i++)
        {
            var alone = Sampler.Generate(model, [Prompts[i]], o)[0];
            Assert.Equal(alone.TokenIds, batched[i].TokenIds);
            Assert.All(batched[i].SampledLogProbs, lp => Assert.Equal(0f, lp)); // a greedy pick is a point mass
        }
    }

    [Fact]
    public void Policy_log_probs_equal_the_trainers_recomputed_log_probs()
    {
        using var model = TestModels.Micro();
        var seqs = Sampler.Generate(model, Prompts, new SamplingOptions(Temperature: 0.7, TopK: 50, MaxTokens: 8, Seed: 1));
        var samples = seqs.Select((s, i) => new PolicySample(Prompts[i], s.TokenIds, s.PolicyLogProbs, 0)).ToList();
        using var batch = SequenceBatch.Build(samples, CPU);
        using var _ = no_grad();
        var (logp, _) = batch.LogProbs(model.Network, withEntropy: false, temperature: 0.7); // the policy sampled is softmax(logits / 0.7)
        var diff = ((logp - batch.OldLogProbs) * batch.Mask).abs().max().ToDouble();
        Assert.True(diff < 1e-4, $"cached-decode and full-forward log-probs differ by {diff}");
    }

    [Fact]
    public void Sampled_log_probs_reflect_the_truncated_distribution()
    {
        using var model = TestModels.Micro();
        var seq = Sampler.Generate(model, [Prompts[0]], new SamplingOptions(Temperature: 1.0, TopK: 1, MaxTokens: 6, Seed: 3))[0];
        Assert.All(seq.SampledLogProbs, lp => Assert.Equal(0f, lp, 5));      // top-1 leaves one token with probability 1
        Assert.All(seq.PolicyLogProbs, lp => Assert.True(lp < 0));           // under the raw policy it was not certain
    }

    [Fact]
    public void Stop_token_ids_and_stop_strings_end_a_sequence_with_reason_stop()
    {
        using var model = TestModels.Micro();
        var free = Sampler.Generate(model, [Prompts[0]], new SamplingOptions(Temperature: 0, MaxTokens: 8))[0];
        Assert.Equal(FinishReason.Length, free.FinishReason);
        Assert.Equal(8, free.TokenIds.Length);
        var stopId = free.TokenIds[3];
        var stopped = Sampler.Generate(model, [Prompts[0]], new SamplingOptions(Temperature: 0, MaxTokens: 8, StopTokenIds: [stopId]))[0];
        Assert.Equal(FinishReason.Stop, stopped.FinishReason);
        Assert.Equal(free.TokenIds.TakeWhile(t => t != stopId).Count() + 1, stopped.TokenIds.Length);
        var stopText = model.Tokenizer.Decode(free.TokenIds.Skip(2).Take(1));
        if (stopText.Length > 0 && !stopText.Contains('\uFFFD'))
        {
            var byString = Sampler.Generate(model, [Prompts[0]], new SamplingOptions(Temperature: 0, MaxTokens: 8, Stop: [stopText]))[0];
            Assert.Equal(FinishReason.Stop, byString.FinishReason);
            Assert.DoesNotContain(stopText, byString.Text);
        }
    }
}
