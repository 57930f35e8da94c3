namespace Orleans.Rft.Engine.Training;

/// <summary>
/// One scored rollout as the trainer sees it: token ids only (never re-tokenised text), the
/// behaviour log-probs recorded when it was sampled, and its advantage. <see cref="CompletionMask"/>
/// (optional, one per completion token) masks tool and user tokens of multi-turn rollouts.
/// </summary>
public sealed record PolicySample(int[] PromptIds, int[] CompletionIds, float[] BehaviourLogProbs, double Advantage, bool[]? CompletionMask = null)
{
    public int Length => PromptIds.Length + CompletionIds.Length;
    public int TrainableTokens => CompletionMask?.Count(m => m) ?? CompletionIds.Length;

    /// <summary>Completion tokens that train once the sequence is cut to <paramref name="maxLength"/> (<see cref="ContextWindow"/>).</summary>
    public int TrainableTokensWithin(int maxLength) => ContextWindow.TrainableWithin(PromptIds.Length, CompletionIds.Length, CompletionMask, maxLength);
}
