namespace Orleans.Rft.Agents;

/// <summary>
/// One call of the policy during a rollout, exactly as sampled: the prompt ids it was given, the ids
/// it produced with their sampling log-probs, and the policy version. A trajectory is built from these
/// records, never by re-tokenising an agent's text.
/// </summary>
public sealed record ModelCall(int[] PromptIds, int[] CompletionIds, float[] LogProbs, string Text, string FinishReason, int PolicyVersion);
