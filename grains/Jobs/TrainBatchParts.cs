using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Grains.Jobs;

/// <summary>
/// Cuts one rank's samples into <see cref="TrainBatchPart"/>s of at most a page's bytes and puts them
/// back together. Samples of one rollout row share their prompt's array (the rollout worker's answer
/// restores one array per prompt), so each part carries each of its prompts once.
/// Sizes are upper bounds under Orleans' codec (≤ 6 bytes per int, 5 per float, see <see cref="GenerateResultPages.Bytes"/>).
/// </summary>
public static class TrainBatchParts
{
    public static List<TrainBatchPart> Split(IReadOnlyList<TrainSample> samples, long pageBytes = GenerateResultPages.DefaultPageBytes)
    {
        var parts = new List<TrainBatchPart>();
        var prompts = new List<int[]>();
        var index = new Dictionary<int[], int>(ReferenceEqualityComparer.Instance);
        var of = new List<int>();
        var items = new List<TrainSample>();
        long size = 0;
        void Flush()
        {
            parts.Add(new TrainBatchPart(prompts.ToArray(), of.ToArray(), items.ToArray()));
            (prompts, of, items, size) = (new(), new(), new(), 0);
            index.Clear();
        }
        foreach (var s in samples)
        {
            long cost = 6L * s.CompletionIds.Length + 5L * s.LogProbs.Length + 2L * (s.Mask?.Length ?? 0) + 32 + (index.ContainsKey(s.PromptIds) ? 0 : 6L * s.PromptIds.Length + 16);
            if (cost > pageBytes) throw new InvalidOperationException($"one training sample needs {cost} bytes, more than a message ({pageBytes}); lower inference.max_tokens or the prompt length.");
            if (items.Count > 0 && size + cost > pageBytes) { Flush(); cost = 6L * s.CompletionIds.Length + 5L * s.LogProbs.Length + 2L * (s.Mask?.Length ?? 0) + 32 + 6L * s.PromptIds.Length + 16; }
            if (!index.TryGetValue(s.PromptIds, out var p)) { index[s.PromptIds] = p = prompts.Count; prompts.Add(s.PromptIds); }
            of.Add(p);
            items.Add(s with { PromptIds = [] });
            size += cost;
        }
        if (items.Count > 0 || parts.Count == 0) Flush();
        return parts;
    }

    public static List<TrainSample> Join(IEnumerable<TrainBatchPart> parts) =>
        parts.SelectMany(part => part.Samples.Select((s, i) => s with { PromptIds = part.Prompts[part.PromptOf[i]] })).ToList();
}
