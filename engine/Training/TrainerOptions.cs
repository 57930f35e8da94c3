namespace Orleans.Rft.Engine.Training;

/// <summary>
/// Optimisation settings of the policy trainer. <see cref="Temperature"/> is the rollouts' sampling
/// temperature: the trained policy is softmax(logits / T). <see cref="RecomputeLogProbs"/> (null =
/// by the device's dtype, see <see cref="PolicyTrainer.RecomputesLogProbs"/>) makes the trainer
/// recompute the old log-probs with its own forward instead of trusting the sampler's cached decode.
/// </summary>
public sealed record TrainerOptions(
    LearningRateSchedule Schedule,
    LossOptions Loss,
    AdamWOptions? AdamW = null,
    double MaxGradNorm = 1.0,
    int MicroBatch = 8,
    int MaxContextLength = 4096,
    double Temperature = 1.0,
    bool? RecomputeLogProbs = null)
{
    public AdamWOptions Optimizer => AdamW ?? new AdamWOptions();

    public void Validate()
    {
        Schedule.Validate();
        Loss.Validate();
        if (MicroBatch < 1) throw new ArgumentException($"micro_batch must be ≥ 1 (got {MicroBatch}).");
        if (MaxGradNorm < 0) throw new ArgumentException($"max_grad_norm must be ≥ 0 (got {MaxGradNorm}).");
        if (MaxContextLength < 2) throw new ArgumentException($"max_context_length must be ≥ 2 (got {MaxContextLength}).");
        if (!(Temperature > 0) || double.IsInfinity(Temperature)) throw new ArgumentException($"the training temperature (inference.temperature) must be > 0 (got {Temperature}).");
    }
}

/// <summary>What one local gradient pass measured (sums, so ranks and micro-batches add up).</summary>
public sealed record GradientResult(double Loss, LossStatistics Stats, double EntropySum, int Sequences);

/// <summary>The metrics of one optimizer step; <see cref="Skipped"/> when a non-finite gradient norm left the weights and optimizer untouched.</summary>
public sealed record TrainStepResult(
    double Loss, double GradNorm, double LearningRate, double KlMean, double EntropyMean,
    double ClipFraction, double RatioMean, double RatioMin, double RatioMax, long Tokens, double Seconds, bool Skipped = false);
