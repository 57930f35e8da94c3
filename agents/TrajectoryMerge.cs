namespace Orleans.Rft.Agents;

/// <summary>
/// One training sequence of a rollout: prompt ids, then the completion ids — the model's own tokens
/// (<see cref="Mask"/> true, with their sampling log-probs) and whatever was inserted between its turns
/// (tool results, user turns, the template's turn markers: mask false, log-prob 0).
/// </summary>
public sealed record TrajectorySample(int[] PromptIds, int[] CompletionIds, float[] LogProbs, bool[] Mask, int Calls, int PolicyVersion);

/// <summary>
/// The merge rule for a rollout's model calls: a call whose prompt starts with the previous sequence
/// (its prompt + completion so far) token for token continues that sequence — the extra prompt tokens
/// are inserted (masked out) and its completion is trained; any other call (a re-rendered history, a
/// truncated or edited conversation) starts a sequence of its own, which carries the rollout's advantage too.
/// </summary>
public static class TrajectoryMerge
{
    public static List<TrajectorySample> Merge(IReadOnlyList<ModelCall> calls)
    {
        var samples = new List<TrajectorySample>();
        List<int>? prompt = null, completion = null;
        List<float>? logProbs = null;
        List<bool>? mask = null;
        int count = 0, version = 0;
        void Close()
        {
            if (prompt is null) return;
            samples.Add(new TrajectorySample(prompt.ToArray(), completion!.ToArray(), logProbs!.ToArray(), mask!.ToArray(), count, version));
            prompt = null;
        }
        foreach (var call in calls)
        {
            if (call.LogProbs.Length != call.CompletionIds.Length)
                throw new ArgumentException($"a model call has {call.CompletionIds.Length} completion ids but {call.LogProbs.Length} log-probs.");
            if (prompt is not null && Extends(call.PromptIds, prompt, completion!))
            {
                int sofar = prompt.Count + completion!.Count;
                for (int i = sofar; i < call.PromptIds.Length; i++) { completion.Add(call.PromptIds[i]); logProbs!.Add(0); mask!.Add(false); }
            }
            else
            {
                Close();
                (prompt, completion, logProbs, mask, count) = (call.PromptIds.ToList(), new List<int>(), new List<float>(), new List<bool>(), 0);
            }
            completion.AddRange(call.CompletionIds);
            logProbs!.AddRange(call.LogProbs);
            mask!.AddRange(Enumerable.Repeat(true, call.CompletionIds.Length));
            count++;
            version = Math.Max(version, call.PolicyVersion);
        }
        Close();
        return samples;
    }

    /// <summary>True when <paramref name="next"/> begins with <paramref name="prompt"/> followed by <paramref name="completion"/>.</summary>
    static bool Extends(int[] next, List<int> prompt, List<int> completion)
    {
        if (next.Length < prompt.Count + completion.Count) return false;
        for (int i = 0; i < prompt.Count; i++) if (next[i] != prompt[i]) return false;
        for (int i = 0; i < completion.Count; i++) if (next[prompt.Count + i] != completion[i]) return false;
        return true;
    }
}
