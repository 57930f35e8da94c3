using Orleans.Rft.Engine.Lora;
using Orleans.Rft.Engine.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Tests;

/// <summary>
/// Multi-turn rollouts train on one sequence whose completion interleaves the model's turns with
/// inserted tool results; <see cref="PolicySample.CompletionMask"/> keeps the inserted tokens out of
/// every loss, its ratios, its KL and its normalisers.
/// </summary>
public sealed class MaskedTrajectoryTests
{
    // prompt | turn 1 (model) | tool result (inserted) | turn 2 (model)
    static readonly int[] Prompt = [5, 6, 7];
    static readonly int[] Turn1 = [10, 11, 12], Tool = [20, 21, 22, 23], Turn2 = [30, 31];
    static int[] Completion => [.. Turn1, .. Tool, .. Turn2];
    static bool[] CompletionMask => [.. Turn1.Select(_ => true), .. Tool.Select(_ => false), .. Turn2.Select(_ => true)];

    /// <summary>The recorded log-probs: the model's own tokens have one, inserted tokens none (0, or whatever <paramref name="toolValue"/> says).</summary>
    static float[] Behaviour(float toolValue) => [-1.1f, -0.7f, -2.3f, .. Tool.Select(_ => toolValue), -0.4f, -1.9f];

    static LossOptions Loss(string method) => new(method, KlBeta: 0.1, MaxCompletionLength: 16);

    [Fact]
    public void Masks_on_a_two_turn_trajectory_tool_tokens_excluded_gradients_zero_there()
    {
        var sample = new PolicySample(Prompt, Completion, Behaviour(0f), 0.8, CompletionMask);
        using var batch = SequenceBatch.Build([sample], CPU);
        // target position t predicts token t+1: completion token j is at target p + j − 1
        var expected = new float[Prompt.Length + Completion.Length - 1];
        for (int j = 0; j < Completion.Length; j++) if (CompletionMask[j]) expected[Prompt.Length + j - 1] = 1;
        Assert.Equal(expected, batch.Mask.data<float>().ToArray());
        Assert.Equal(Turn1.Length + Turn2.Length, sample.TrainableTokens);

        var toolTargets = Enumerable.Range(0, expected.Length).Where(t => expected[t] == 0).ToArray();
        var trainedTargets = Enumerable.Range(0, expected.Length).Where(t => expected[t] == 1).ToArray();
        foreach (var method in LossMethods.All)
        {
            using var scope = NewDisposeScope();
            using var generator = new Generator(3);
            var logp = (-rand(new long[] { 1, expected.Length }, generator: generator) * 3).requires_grad_(true);
            var refLogp = -rand(new long[] { 1, expected.Length }, generator: generator) * 3;
            var (loss, stats) = PolicyLoss.Compute(logp, batch.OldLogProbs, refLogp, batch.Advantages, batch.Mask, Loss(method),
                PolicyTrainer.NormalizerFor([sample]));
            loss.backward();
            var grad = logp.grad!.data<float>().ToArray();
            Assert.All(toolTargets, t => Assert.Equal(0f, grad[t]));
            Assert.All(trainedTargets, t => Assert.NotEqual(0f, grad[t]));
            Assert.Equal(trainedTargets.Length, stats.Tokens);
        }
    }

    [Fact]
    public void A_masked_tokens_behaviour_log_prob_changes_neither_the_loss_nor_its_gradient_even_when_not_finite()
    {
        foreach (var method in LossMethods.All)
        {
            var (baseLoss, baseGrad) = LossAndGrad(method, Behaviour(0f));
            foreach (var junk in new[] { -30f, 1e30f, float.NegativeInfinity, float.NaN })
            {
                var (loss, grad) = LossAndGrad(method, Behaviour(junk));
                Assert.Equal(baseLoss, loss);
                Assert.Equal(baseGrad, grad);
            }
        }

        static (double, float[]) LossAndGrad(string method, float[] behaviour)
        {
            using var scope = NewDisposeScope();
            var sample = new PolicySample(Prompt, Completion, behaviour, -0.6, CompletionMask);
            using var batch = SequenceBatch.Build([sample], CPU);
            // the loss itself also gets the junk at masked positions, as a trainer's recomputed pass could hand it
            var old = batch.OldLogProbs.clone();
            var hole = batch.Mask.eq(0);
            old.masked_fill_(hole, behaviour[Turn1.Length]);
            using var generator = new Generator(5);
            var logp = (-rand(batch.Mask.shape, generator: generator) * 2).requires_grad_(true);
            var refLogp = (-rand(batch.Mask.shape, generator: generator) * 2).masked_fill(hole, -80);
            var (loss, _) = PolicyLoss.Compute(logp, old, refLogp, batch.Advantages, batch.Mask, Loss(method), PolicyTrainer.NormalizerFor([sample]));
            loss.backward();
            return (loss.ToDouble(), logp.grad!.data<float>().ToArray());
        }
    }

    [Fact]
    public void Every_loss_and_its_sequence_level_normalisers_count_only_masked_in_tokens()
    {
        // A batch with holes (masked positions holding large log-prob gaps) must give the loss and the
        // gradients of the same batch with the holes cut out: GSPO's sequence ratio is a mean over the
        // masked-in tokens, GRPO's per-sequence mean divides by them, DAPO/CISPO's batch mean counts them.
        float[,] logp = { { -1.0f, -9f, -0.5f, -9f, -2.0f }, { -0.3f, -1.2f, -9f, -0.8f, -9f } };
        float[,] old = { { -1.1f, 3f, -0.4f, 3f, -2.1f }, { -0.3f, -1.0f, 3f, -0.9f, 3f } };
        float[,] refp = { { -1.2f, 5f, -0.6f, 5f, -1.8f }, { -0.5f, -1.1f, 5f, -0.7f, 5f } };
        float[,] mask = { { 1, 0, 1, 0, 1 }, { 1, 1, 0, 1, 0 } };
        double[] advantages = [1.0, -0.5];
        var norm = new LossNormalizer(2, 6);
        foreach (var method in LossMethods.All)
        {
            var o = Loss(method) with { EpsilonHigh = 0.05 };
            using var scope = NewDisposeScope();
            var holed = tensor(logp).requires_grad_(true);
            var (full, _) = PolicyLoss.Compute(holed, tensor(old), tensor(refp), tensor(advantages.Select(a => (float)a).ToArray()), tensor(mask), o, norm);
            full.backward();
            var fullGrad = holed.grad!.data<float>().ToArray();

            // each row on its own, holes removed and no mask at all; micro-batch shares of one normaliser add up
            double compactLoss = 0;
            for (int b = 0; b < 2; b++)
            {
                var keep = Enumerable.Range(0, 5).Where(t => mask[b, t] == 1).ToArray();
                var row = tensor(keep.Select(t => logp[b, t]).ToArray()).unsqueeze(0).requires_grad_(true);
                var (part, _) = PolicyLoss.Compute(row, tensor(keep.Select(t => old[b, t]).ToArray()).unsqueeze(0),
                    tensor(keep.Select(t => refp[b, t]).ToArray()).unsqueeze(0), tensor(new[] { (float)advantages[b] }),
                    ones(1, keep.Length), o, norm);
                part.backward();
                compactLoss += part.ToDouble();
                var g = row.grad!.data<float>().ToArray();
                for (int k = 0; k < keep.Length; k++) Assert.Equal(g[k], fullGrad[b * 5 + keep[k]], 6);
            }
            Assert.Equal(compactLoss, full.ToDouble(), 6);
        }
    }

    [Fact]
    public void Masked_tokens_after_the_last_trained_token_change_neither_the_loss_nor_the_gradients()
    {
        // prompt | model turn | trailing tool result (masked): what the tool answered must not matter
        using var model = TestModels.Micro(seed: 6);
        model.AttachLora(new LoraConfig(Rank: 4), seed: 6);
        using (var g = new Generator(6)) using (no_grad()) foreach (var (_, p) in model.LoraParameters()) p.normal_(0, 0.1, g);
        bool[] mask = [true, true, true, false, false, false];
        foreach (var method in LossMethods.All)
        {
            using var trainer = new PolicyTrainer(model, new TrainerOptions(new LearningRateSchedule(0.01), Loss(method), RecomputeLogProbs: false));
            PolicySample With(int[] tail, float tailLogProb) =>
                new([1, 2, 3], [40, 41, 42, .. tail], [-3f, -4f, -5f, tailLogProb, tailLogProb, tailLogProb], 0.9, mask);
            var a = Gradients(trainer, With([50, 51, 52], 0f));
            var b = Gradients(trainer, With([200, 17, 99], -12f));
            Assert.Equal(a.Loss, b.Loss, 6);
            Assert.True(a.Grad.Any(x => x != 0), $"{method}: the model's own tokens must have a gradient");
            var scale = a.Grad.Max(Math.Abs);
            for (int i = 0; i < a.Grad.Length; i++) Assert.True(Math.Abs(a.Grad[i] - b.Grad[i]) <= 1e-6 * scale, $"{method}: gradient element {i} differs");
        }

        static (double Loss, float[] Grad) Gradients(PolicyTrainer trainer, PolicySample sample)
        {
            trainer.ZeroGradients();
            var r = trainer.ComputeGradients([sample], PolicyTrainer.NormalizerFor([sample]));
            using var flat = trainer.LocalGradient();
            var grad = flat.data<float>().ToArray();
            trainer.ZeroGradients();
            return (r.Loss, grad);
        }
    }

    [Fact]
    public void Truncation_at_max_context_length_trains_exactly_the_tokens_inside_the_window_and_counts_the_cut()
    {
        // 3 prompt + 9 completion tokens cut at 8: completion tokens 0–4 stay (one masked), 5–8 go (two of them trainable)
        int[] prompt = [1, 2, 3];
        int[] completion = [40, 41, 42, 43, 44, 45, 46, 47, 48];
        bool[] mask = [true, true, false, true, true, true, false, true, false];
        float[] logps = completion.Select(t => -0.1f * (t - 38)).ToArray();
        var longSample = new PolicySample(prompt, completion, logps, 0.7, mask);
        var cutSample = new PolicySample(prompt, completion[..5], logps[..5], 0.7, mask[..5]);

        Assert.Equal(new ContextCut(4, 2), ContextWindow.Cut(3, 9, mask, 8));
        Assert.Equal(default, ContextWindow.Cut(3, 5, mask[..5], 8));
        Assert.Equal(new ContextCut(4, 4), ContextWindow.Cut(3, 9, null, 8));
        Assert.Equal(new ContextCut(2, 0), ContextWindow.Cut(10, 0, null, 8)); // a prompt longer than the window
        Assert.Equal(4, longSample.TrainableTokensWithin(8));
        Assert.Equal(PolicyTrainer.NormalizerFor([cutSample]), PolicyTrainer.NormalizerFor([longSample], 8));

        using var model = TestModels.Micro(seed: 7);
        model.AttachLora(new LoraConfig(Rank: 4), seed: 7);
        using (var g = new Generator(7)) using (no_grad()) foreach (var (_, p) in model.LoraParameters()) p.normal_(0, 0.1, g);
        foreach (var method in new[] { LossMethods.Dapo, LossMethods.Gspo })
        {
            float[] Grad(PolicySample s, int maxContext)
            {
                using var trainer = new PolicyTrainer(model, new TrainerOptions(new LearningRateSchedule(0.01), Loss(method), MaxContextLength: maxContext, RecomputeLogProbs: false));
                trainer.ZeroGradients();
                trainer.ComputeGradients([s], PolicyTrainer.NormalizerFor([s], maxContext));
                using var flat = trainer.LocalGradient();
                var grad = flat.data<float>().ToArray();
                trainer.ZeroGradients();
                return grad;
            }
            var cut = Grad(longSample, 8);
            var reference = Grad(cutSample, 4096);
            var scale = reference.Max(Math.Abs);
            Assert.True(scale > 0);
            for (int i = 0; i < cut.Length; i++) Assert.True(Math.Abs(cut[i] - reference[i]) <= 1e-6 * scale, $"{method}: gradient element {i} differs");
        }
    }
}
