using Orleans.Rft.Engine.Devices;
using Orleans.Rft.Engine.Lora;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.Engine.Sampling;
using Orleans.Rft.Engine.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Tests;

/// <summary>
/// The trainer optimises the policy that was sampled: same temperature on both sides, on-policy
/// ratios of 1, and a non-finite gradient never reaches the adapter.
/// </summary>
public sealed class PolicyFidelityTests
{
    static readonly int[][] Prompts = [[1, 2, 3, 4, 5], [7, 8], [9, 10, 11]];

    static TrainerOptions Options(double temperature = 1.0, bool? recompute = false, string method = LossMethods.Grpo) =>
        new(new LearningRateSchedule(0.05), new LossOptions(method, MaxCompletionLength: 8), MaxGradNorm: 1.0, MicroBatch: 2,
            Temperature: temperature, RecomputeLogProbs: recompute);

    /// <summary>A micro model with a non-zero adapter (B random), so the adapter changes the policy.</summary>
    static LanguageModel AdaptedModel(long seed, ComputeDevice? device = null)
    {
        var dir = TestModels.TempDirectory("fidelity");
        Presets.TinyModelPresets.Create("micro", dir, seed).Dispose();
        var model = LanguageModel.Load(dir, device);
        model.AttachLora(new LoraConfig(Rank: 4), seed: seed);
        using var generator = new Generator((ulong)seed);
        using (no_grad()) foreach (var (_, p) in model.LoraParameters()) p.normal_(0, 0.1, generator);
        return model;
    }

    [Fact]
    public void At_temperature_0_7_sampler_and_trainer_both_use_softmax_of_logits_over_T_so_on_policy_ratios_are_1()
    {
        const double t = 0.7;
        using var model = AdaptedModel(seed: 5);
        var seqs = Sampler.Generate(model, Prompts, new SamplingOptions(Temperature: t, MaxTokens: 8, Seed: 11, StopTokenIds: []));
        var samples = seqs.Select((s, i) => new PolicySample(Prompts[i], s.TokenIds, s.PolicyLogProbs, i == 1 ? -1.0 : 1.0)).ToList();

        // Independent reference: one full forward, logits / T, log-softmax, gathered at the sampled tokens.
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            using var batch = SequenceBatch.Build(samples, CPU);
            var logits = model.Network.Forward(batch.Input.narrow(1, 0, batch.Input.shape[1] - 1));
            var tempered = (logits / t).log_softmax(-1).gather(-1, batch.Targets.unsqueeze(-1)).squeeze(-1);
            var untempered = logits.log_softmax(-1).gather(-1, batch.Targets.unsqueeze(-1)).squeeze(-1);
            var recorded = ((batch.OldLogProbs - tempered) * batch.Mask).abs().max().ToDouble();
            Assert.True(recorded < 1e-4, $"the sampler's recorded log-probs differ from log softmax(logits / {t}) by {recorded}");
            // the check has teeth: at T = 0.7 the tempered and raw log-probs are far apart
            Assert.True(((tempered - untempered) * batch.Mask).abs().max().ToDouble() > 1e-2);
            var trainer = batch.LogProbs(model.Network, withEntropy: false, t).LogProbs;
            Assert.True(((trainer - tempered) * batch.Mask).abs().max().ToDouble() < 1e-5, "the training forward is not tempered");
        }

        // End to end through the trainer's gradient pass: ratio 1 on every token, at T and only at T.
        using var at = new PolicyTrainer(model, Options(t));
        var stats = at.ComputeGradients(samples, PolicyTrainer.NormalizerFor(samples)).Stats;
        Assert.InRange(stats.RatioMin, 1 - 1e-4, 1 + 1e-4);
        Assert.InRange(stats.RatioMax, 1 - 1e-4, 1 + 1e-4);
        at.ZeroGradients();
        using var untemperedTrainer = new PolicyTrainer(model, Options(1.0));
        var off = untemperedTrainer.ComputeGradients(samples, PolicyTrainer.NormalizerFor(samples)).Stats;
        Assert.True(off.RatioMax - off.RatioMin > 1e-2, $"a trainer at T = 1 should see ratios ≠ 1 (min {off.RatioMin}, max {off.RatioMax})");
    }

    [Fact]
    public void The_kl_reference_is_tempered_like_the_policy_so_an_identity_adapter_has_kl_0_at_temperature_0_7()
    {
        using var model = TestModels.Micro(seed: 9);
        model.AttachLora(new LoraConfig(Rank: 4), seed: 9);             // B = 0: the adapted policy is the reference
        var samples = Prompts.Select((p, i) => new PolicySample(p, [30 + i, 31, 32, 33], [-5f, -5f, -5f, -5f], 1.0)).ToList();
        var options = Options(0.7, recompute: true) with { Loss = new LossOptions(KlBeta: 0.1, MaxCompletionLength: 8) };
        using var trainer = new PolicyTrainer(model, options);
        var stats = trainer.ComputeGradients(samples, PolicyTrainer.NormalizerFor(samples)).Stats;
        Assert.True(stats.KlSum < 1e-6, $"KL to an identical reference is {stats.KlSum}: the reference forward is not at T = 0.7");
        Assert.True(stats.Tokens > 0);
    }

    [Fact]
    public void Recomputed_old_log_probs_make_the_first_pass_ratio_exactly_1_whatever_the_sampler_recorded()
    {
        using var model = AdaptedModel(seed: 6);
        var rng = new Random(3);
        // behaviour log-probs that are plainly wrong: only a recompute can give ratio 1
        var samples = Enumerable.Range(0, 5).Select(i =>
        {
            var completion = Enumerable.Range(0, 3 + i).Select(_ => rng.Next(0, 256)).ToArray();
            return new PolicySample([1, 2, 3 + i], completion, completion.Select(_ => -5.5f).ToArray(), i % 2 == 0 ? 1.0 : -0.7);
        }).ToList();
        foreach (var method in LossMethods.All)
        {
            using var trainer = new PolicyTrainer(model, Options(0.8, recompute: true, method));
            Assert.True(trainer.RecomputesLogProbs);
            var stats = trainer.ComputeGradients(samples, PolicyTrainer.NormalizerFor(samples)).Stats;
            Assert.Equal(1.0, stats.RatioMin);
            Assert.Equal(1.0, stats.RatioMax);
            Assert.Equal(0.0, stats.ClippedTokens);
            trainer.ZeroGradients();
        }
        using var cached = new PolicyTrainer(model, Options(0.8, recompute: false));
        var cachedStats = cached.ComputeGradients(samples, PolicyTrainer.NormalizerFor(samples)).Stats;
        Assert.NotEqual(1.0, cachedStats.RatioMax); // without the recompute the sampler's numbers are used
    }

    [Fact]
    public void Recompute_defaults_to_on_for_bfloat16_and_off_for_float32_and_an_explicit_setting_wins()
    {
        using var f32 = AdaptedModel(seed: 7);
        using (var t = new PolicyTrainer(f32, Options(recompute: null))) Assert.False(t.RecomputesLogProbs);
        using (var t = new PolicyTrainer(f32, Options(recompute: true))) Assert.True(t.RecomputesLogProbs);
        using var bf16 = AdaptedModel(seed: 7, new ComputeDevice(CPU, ScalarType.BFloat16));
        using (var t = new PolicyTrainer(bf16, Options(recompute: null))) Assert.True(t.RecomputesLogProbs);
        using (var t = new PolicyTrainer(bf16, Options(recompute: false))) Assert.False(t.RecomputesLogProbs);
    }

    [Fact]
    public void A_nan_advantage_skips_the_update_leaving_adapter_and_optimizer_untouched_and_the_next_step_trains()
    {
        using var model = AdaptedModel(seed: 8);
        using var trainer = new PolicyTrainer(model, Options());
        var good = new PolicySample([1, 2, 3], [40, 41, 42], [-5.5f, -5.5f, -5.5f], 1.0);
        using var before = FlatParameters.Flatten(trainer.Parameters);

        var result = trainer.Step([good, good with { CompletionIds = [50, 51], BehaviourLogProbs = [-5f, -5f], Advantage = double.NaN }]);
        Assert.True(result.Skipped);
        Assert.False(double.IsFinite(result.GradNorm));
        using (var after = FlatParameters.Flatten(trainer.Parameters)) Assert.True(after.equal(before).all().ToBoolean(), "a skipped update changed the adapter");
        Assert.Equal(0, trainer.Optimizer.Step);                      // AdamW's bias-correction counter did not move
        Assert.All(trainer.Parameters, p => Assert.False(p.grad is { } g && g.isnan().any().ToBoolean(), "NaN gradient left behind"));

        var next = trainer.Step([good, good with { Advantage = -1.0, CompletionIds = [43, 44, 45] }]);
        Assert.False(next.Skipped);
        Assert.Equal(1, trainer.Optimizer.Step);
        using var trained = FlatParameters.Flatten(trainer.Parameters);
        Assert.False(trained.isnan().any().ToBoolean());
        Assert.False(trained.equal(before).all().ToBoolean());
    }
}
