using Orleans.Rft.Engine.Training;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Grains.Jobs;

/// <summary>
/// The training samples of one rollout: its sequence and, for an agent that re-rendered its history,
/// each further sequence, all with the rollout's advantage; and how they meet the trainer's context
/// window (<see cref="ContextWindow"/>, the rule <see cref="SequenceBatch.Build"/> cuts by).
/// </summary>
public static class TrainSamples
{
    public static IEnumerable<TrainSample> Of(GeneratedCompletion c, double advantage)
    {
        yield return new TrainSample(c.PromptIds, c.CompletionIds, c.LogProbs, advantage, c.Mask);
        foreach (var s in c.Extra ?? []) yield return new TrainSample(s.PromptIds, s.CompletionIds, s.LogProbs, advantage, s.Mask);
    }

    /// <summary>The model's own tokens that train once the sequence is cut to <paramref name="maxContextLength"/>.</summary>
    public static int TrainableWithin(TrainSample s, int maxContextLength) =>
        ContextWindow.TrainableWithin(s.PromptIds.Length, s.CompletionIds.Length, s.Mask, maxContextLength);

    /// <summary>What <paramref name="maxContextLength"/> cuts from the sequence.</summary>
    public static ContextCut Cut(TrainSample s, int maxContextLength) =>
        ContextWindow.Cut(s.PromptIds.Length, s.CompletionIds.Length, s.Mask, maxContextLength);

    /// <summary>The engine's view of a sample on the trainer rank: the same ids, log-probs, advantage and mask.</summary>
    public static PolicySample ToPolicy(TrainSample s) => new(s.PromptIds, s.CompletionIds, s.LogProbs, s.Advantage, s.Mask);
}
