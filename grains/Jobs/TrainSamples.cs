using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Grains.Jobs;

/// <summary>The training samples of one rollout: its sequence and, for an agent that re-rendered its history, each further sequence, all with the rollout's advantage.</summary>
public static class TrainSamples
{
    public static IEnumerable<TrainSample> Of(GeneratedCompletion c, double advantage)
    {
        yield return new TrainSample(c.PromptIds, c.CompletionIds, c.LogProbs, advantage, c.Mask);
        foreach (var s in c.Extra ?? []) yield return new TrainSample(s.PromptIds, s.CompletionIds, s.LogProbs, advantage, s.Mask);
    }
}
