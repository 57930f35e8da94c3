using TorchSharp;
using System.Diagnostics;
using Orleans.Rft.Engine.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Training;

/// <summary>
/// One trainer rank's view of a GRPO-family step on a LoRA-adapted model. The step is split so that
/// the cluster can put a collective between the halves: <see cref="ComputeGradients"/> (local
/// micro-batches, gradient accumulation) → reduce-scatter of the flat gradient → <see cref="ApplyShard"/>
/// on the slice this rank owns → all-gather. <see cref="Step"/> runs the whole sequence in process
/// for a single rank. Runs on the device's thread.
/// </summary>
public sealed class PolicyTrainer : IDisposable
{
    readonly LanguageModel model;
    readonly IReadOnlyList<Parameter> parameters;

    public PolicyTrainer(LanguageModel model, TrainerOptions options, int ranks = 1, int rank = 0)
    {
        options.Validate();
        if (model.Lora is null) throw new InvalidOperationException("attach a LoRA adapter before training.");
        this.model = model;
        Options = options;
        parameters = model.LoraParameters().Select(p => p.Parameter).ToList();
        ParameterCount = FlatParameters.Count(parameters);
        var (start, length) = FlatParameters.Shard(ParameterCount, ranks, rank);
        Optimizer = new AdamWShard(start, length, options.Optimizer, model.Network.Device);
        RecomputesLogProbs = options.RecomputeLogProbs ?? model.Network.DType == ScalarType.BFloat16;
    }

    /// <summary>
    /// Whether old log-probs are recomputed by this trainer's forward (no grad, unchanged weights, the
    /// same micro-batch, temperature and kernels as the gradient pass) instead of taken from the
    /// sampler. The sampler's cached decode runs other kernels and, in bfloat16, rounds differently, so
    /// on-policy ratios drift from 1 by the rounding; recomputed, they are exactly 1 (veRL recomputes
    /// <c>old_log_prob</c> the same way). Default: on for bfloat16 devices, off for float32, where the
    /// two agree to ~1e-6. With <c>max_staleness</c> &gt; 0 the recomputed ratio is against the
    /// current weights, so it no longer corrects for the policy lag.
    /// </summary>
    public bool RecomputesLogProbs { get; }

    public TrainerOptions Options { get; }
    public long ParameterCount { get; }
    public AdamWShard Optimizer { get; }
    public IReadOnlyList<Parameter> Parameters => parameters;
    public int StepCount { get; private set; }

    /// <summary>
    /// Global normaliser for a batch (before it is split over micro-batches or ranks). Tokens counts the
    /// completion tokens the loss sees: mask-true ones inside <paramref name="maxContextLength"/>, as
    /// <see cref="SequenceBatch.Build"/> cuts them, so a truncated sample does not dilute the token mean.
    /// </summary>
    public static LossNormalizer NormalizerFor(IReadOnlyList<PolicySample> batch, int maxContextLength = int.MaxValue) =>
        new(batch.Count, batch.Sum(s => (long)s.TrainableTokensWithin(maxContextLength)));

    /// <summary>Accumulates this rank's gradients into the LoRA parameters' <c>.grad</c>.</summary>
    public GradientResult ComputeGradients(IReadOnlyList<PolicySample> samples, LossNormalizer normalizer)
    {
        var net = model.Network;
        net.train();
        double loss = 0, entropy = 0;
        var stats = LossStatistics.Empty;
        // Sorting by length keeps padding low inside each micro-batch.
        var ordered = samples.OrderBy(s => s.Length).ToList();
        for (int start = 0; start < ordered.Count; start += Options.MicroBatch)
        {
            var micro = ordered.GetRange(start, Math.Min(Options.MicroBatch, ordered.Count - start));
            using var scope = NewDisposeScope();
            using var batch = SequenceBatch.Build(micro, net.Device, Options.MaxContextLength);
            var temperature = Options.Temperature;
            Tensor? refLogp = null;
            if (Options.Loss.KlBeta > 0)
            {
                using var noGrad = no_grad();
                net.SetAdapterEnabled(false);
                try { refLogp = batch.LogProbs(net, withEntropy: false, temperature).LogProbs; }
                finally { net.SetAdapterEnabled(true); }
            }
            var oldLogp = batch.OldLogProbs;
            if (RecomputesLogProbs)
            {
                // The weights do not change until every micro-batch has added its gradient, so this is
                // "before the update" for the whole batch.
                using var noGrad = no_grad();
                oldLogp = batch.LogProbs(net, withEntropy: false, temperature).LogProbs;
            }
            var (logp, ent) = batch.LogProbs(net, withEntropy: true, temperature);
            var (l, s) = PolicyLoss.Compute(logp, oldLogp, refLogp, batch.Advantages, batch.Mask, Options.Loss, normalizer);
            l.backward();
            loss += l.ToDouble();
            entropy += (ent! * batch.Mask).sum().ToDouble();
            stats = stats.Add(s);
        }
        net.eval();
        return new GradientResult(loss, stats, entropy, samples.Count);
    }

    /// <summary>This rank's gradient shard, (shard length), taken from the accumulated <c>.grad</c>s.</summary>
    public Tensor LocalGradient() => FlatParameters.FlattenGradients(parameters);

    public void ZeroGradients()
    {
        foreach (var p in parameters) p.grad?.zero_();
    }

    /// <summary>
    /// Applies AdamW to this rank's shard of the flat vector with the (already reduced) gradient shard,
    /// scaled by the global clip coefficient; returns the updated shard values.
    /// </summary>
    public Tensor ApplyShard(Tensor gradientShard, double clipScale, double learningRate)
    {
        using var _ = no_grad();
        using var flat = FlatParameters.Flatten(parameters);
        var shard = flat.narrow(0, Optimizer.Start, Optimizer.Length).clone();
        using var g = clipScale == 1.0 ? gradientShard.alias() : gradientShard * clipScale;
        Optimizer.Apply(shard, g, learningRate);
        return shard;
    }

    /// <summary>Writes the full updated flat vector (after the all-gather) into the model.</summary>
    public void LoadFlat(Tensor flat)
    {
        FlatParameters.Assign(parameters, flat);
        StepCount++;
    }

    /// <summary>
    /// A whole step on one rank: gradients, clipping, AdamW, new adapter values. A non-finite gradient
    /// norm skips the update (<see cref="GradientClipping.IsSkipped"/>): weights, AdamW moments and its
    /// step counter stay as they were; the schedule still advances, as it follows the job's steps.
    /// </summary>
    public TrainStepResult Step(IReadOnlyList<PolicySample> batch)
    {
        if (Optimizer.Length != ParameterCount) throw new InvalidOperationException("Step() needs the trainer to own the whole vector (ranks = 1).");
        var watch = Stopwatch.StartNew();
        ZeroGradients();
        var g = ComputeGradients(batch, NormalizerFor(batch, Options.MaxContextLength));
        using var scope = NewDisposeScope();
        var grad = LocalGradient();
        var (norm, scale) = GradientClipping.Coefficient(grad.pow(2).sum().ToDouble(), Options.MaxGradNorm);
        var lr = Options.Schedule.At(StepCount);
        var skipped = GradientClipping.IsSkipped(norm);
        if (skipped) StepCount++;
        else LoadFlat(ApplyShard(grad, scale, lr));
        ZeroGradients();
        return Summarize(g, norm, lr, watch.Elapsed.TotalSeconds);
    }

    public static TrainStepResult Summarize(GradientResult g, double gradNorm, double lr, double seconds)
    {
        var s = g.Stats;
        double tokens = Math.Max(1, s.Tokens);
        return new TrainStepResult(g.Loss, gradNorm, lr, s.KlSum / tokens, g.EntropySum / tokens, s.ClippedTokens / tokens,
            s.RatioSum / tokens, s.Tokens > 0 ? s.RatioMin : 1, s.Tokens > 0 ? s.RatioMax : 1, (long)s.Tokens, seconds, GradientClipping.IsSkipped(gradNorm));
    }

    public void Dispose() => Optimizer.Dispose();
}
