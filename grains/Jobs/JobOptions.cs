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

    public static LossOptions Loss(JobSpec spec) =>
        new(spec.Loss.Method, spec.Loss.Epsilon, spec.Loss.EpsilonHigh, spec.Loss.KlBeta, Scaling(spec.Loss), spec.Inference.MaxTokens);

    public static LearningRateSchedule Schedule(JobSpec spec, int totalSteps) =>
        new(spec.Training.LearningRate, spec.Training.WarmupSteps, totalSteps, spec.Training.LrSchedule);

    public static TrainerOptions Trainer(JobSpec spec, int totalSteps) =>
        new(Schedule(spec, totalSteps), Loss(spec), new AdamWOptions(WeightDecay: spec.Training.WeightDecay),
            spec.Training.MaxGradNorm, spec.Training.MicroBatch, spec.Training.MaxContextLength);
}
