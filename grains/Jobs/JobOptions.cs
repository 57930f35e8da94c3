using Orleans.Rft.Engine.Training;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Grains.Jobs;

/// <summary>Maps a job spec onto the engine's option records.</summary>
public static class JobOptions
{
    public static RewardScaling Scaling(LossSpec loss) => loss.ScaleRewards switch
    {
        null => loss.Method == LossMethods.DrGrpo ? RewardScaling.None : RewardScaling.Group,
        "group" => RewardScaling.Group,
        "batch" => RewardScaling.Batch,
        "none" => RewardScaling.None,
        var other => throw new ArgumentException($"loss.scale_rewards '{other}' must be group, batch or none."),
    };

    /// <summary>Null clip ranges stay null: <see cref="LossOptions"/> resolves them per method.</summary>
    public static LossOptions Loss(JobSpec spec) =>
        new(spec.Loss.Method, spec.Loss.Epsilon, spec.Loss.EpsilonHigh, spec.Loss.KlBeta, Scaling(spec.Loss), spec.Inference.MaxTokens);

    public static LearningRateSchedule Schedule(JobSpec spec, int totalSteps) =>
        new(spec.Training.LearningRate, spec.Training.WarmupSteps, totalSteps, spec.Training.LrSchedule);

    /// <summary>
    /// The trainer trains the policy the rollouts were sampled from, softmax(logits / T) at the
    /// rollouts' temperature; a null <c>recompute_logprobs</c> is resolved by the rank's device dtype.
    /// </summary>
    public static TrainerOptions Trainer(JobSpec spec, int totalSteps) =>
        new(Schedule(spec, totalSteps), Loss(spec), new AdamWOptions(WeightDecay: spec.Training.WeightDecay),
            spec.Training.MaxGradNorm, spec.Training.MicroBatch, spec.Training.MaxContextLength,
            spec.Inference.Temperature, spec.Loss.RecomputeLogProbs);

    /// <summary>
    /// Dynamic sampling is on by default for dapo (DAPO §3.2) and off for the others. Its top-ups take
    /// rows from the dataset cursor, which queued steps (<c>max_staleness</c> &gt; 0) have already moved
    /// past, so the default is off there and an explicit <c>true</c> is refused by the spec parser.
    /// </summary>
    public static bool DynamicSampling(LossSpec loss) => loss.DynamicSampling switch
    {
        true when loss.MaxStaleness > 0 => throw new ArgumentException(
            $"loss.dynamic_sampling tops a step up from the dataset cursor, which max_staleness = {loss.MaxStaleness} has already queued past; set max_staleness: 0 or dynamic_sampling: false."),
        { } explicitly => explicitly,
        null => loss.Method == LossMethods.Dapo && loss.MaxStaleness == 0,
    };
}
