namespace Orleans.Rft.Engine.Training;

/// <summary>Optimisation settings of the policy trainer.</summary>
public sealed record TrainerOptions(
    LearningRateSchedule Schedule,
    LossOptions Loss,
    AdamWOptions? AdamW = null,
    double MaxGradNorm = 1.0,
    int MicroBatch = 8,
    int MaxContextLength = 4096)
{
    public AdamWOptions Optimizer => AdamW ?? new AdamWOptions();

    public void Validate()
    {
        Schedule.Validate();
        Loss.Validate();
        if (MicroBatch < 1) throw new ArgumentException($"micro_batch must be ≥ 1 (got {MicroBatch}).");
        if (MaxGradNorm < 0) throw new ArgumentException($"max_grad_norm must be ≥ 0 (got {MaxGradNorm}).");
        if (MaxContextLength < 2) throw new ArgumentException($"max_context_length must be ≥ 2 (got {MaxContextLength}).");
    }
}

/// <summary>What one local gradient pass measured (sums, so ranks and micro-batches add up).</summary>
public sealed record GradientResult(double Loss, LossStatistics Stats, double EntropySum, int Sequences);

/// <summary>The metrics of one optimizer step.</summary>
public sealed record TrainStepResult(
    double Loss, double GradNorm, double LearningRate, double KlMean, double EntropyMean,
    double ClipFraction, double RatioMean, double RatioMin, double RatioMax, long Tokens, double Seconds);
