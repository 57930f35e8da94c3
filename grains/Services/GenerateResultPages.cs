using System.Text;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Grains.Services;

/// <summary>
/// Splits a rollout worker's answer into pages of at most a page's bytes each and joins them
/// back. Prompt ids cross once per prompt (not once per sample): with n samples a prompt of P tokens
/// costs 4·P bytes instead of 4·n·P. A page's size is bounded from above by <see cref="Bytes"/>.
/// </summary>
public static class GenerateResultPages
{
    /// <summary>
    /// Payload per page: the message limit less headroom for the envelope and the serializer's
    /// per-field tags (a few bytes per array; 64 KiB covers ≥ 10⁴ completions of tags).
    /// </summary>
    public const int DefaultPageBytes = MessageLimits.MaxChunkBytes - (64 << 10);

    /// <summary>
    /// Upper bound of a completion's serialized size under Orleans' codec: an array element is a
    /// one-byte field header plus its value (an int a varint of ≤ 5 bytes, a float 4), so ≤ 6 bytes per
    /// id and 5 per log-prob, the UTF-8 text, and 64 bytes of tags and lengths.
    /// </summary>
    public static long Bytes(GeneratedCompletion c) =>
        6L * c.CompletionIds.Length + 5L * c.LogProbs.Length + Encoding.UTF8.GetByteCount(c.Text) + Encoding.UTF8.GetByteCount(c.FinishReason) + 64
        + 2L * (c.Mask?.Length ?? 0)                                                     // a bool: header + value
        + (c.Extra?.Sum(s => 6L * (s.PromptIds.Length + s.CompletionIds.Length) + 5L * s.LogProbs.Length + 2L * s.Mask.Length + 64) ?? 0)
        + (c.Agent is { } a ? Encoding.UTF8.GetByteCount(a.MessagesJson) + Encoding.UTF8.GetByteCount(a.Failure ?? "") + Encoding.UTF8.GetByteCount(a.ReportedReason ?? "") + 96 : 0);

    /// <summary>A prompt's ids as they cross with a page (see <see cref="Bytes(GeneratedCompletion)"/>).</summary>
    public static long Bytes(int[] promptIds) => 6L * promptIds.Length + 16;

    /// <summary>
    /// Pages of one answer; completion j belongs to prompt j / n. A prompt's ids ride with its first
    /// sample; a sample whose prompt differs from it (an agent that rendered its own) keeps its own ids.
    /// Continuations are "{answerId}:{page}".
    /// </summary>
    public static List<GenerateResult> Split(IReadOnlyList<GeneratedCompletion> completions, int n, int policyVersion, double engineSeconds, string answerId, long pageBytes)
    {
        long budget = pageBytes;
        var pages = new List<(int First, List<GeneratedCompletion> Items, List<int[]> Prompts)>();
        var items = new List<GeneratedCompletion>();
        var prompts = new List<int[]>();
        int first = 0;
        long size = 0;
        for (int j = 0; j < completions.Count; j++)
        {
            var c = completions[j];
            var shared = completions[j - j % n].PromptIds;
            bool own = j % n != 0 && !c.PromptIds.AsSpan().SequenceEqual(shared);
            long cost = Bytes(c) + (j % n == 0 || own ? Bytes(c.PromptIds) : 0);
            if (cost > budget)
                throw new InvalidOperationException($"one completion needs {cost} bytes, more than a page ({budget}); lower inference.max_tokens or the prompt length.");
            if (items.Count > 0 && size + cost > budget)
            {
                pages.Add((first, items, prompts));
                (first, items, prompts, size) = (j, new(), new(), 0);
            }
            items.Add(own ? c : c with { PromptIds = [] });
            if (j % n == 0) prompts.Add(c.PromptIds);
            size += cost;
        }
        pages.Add((first, items, prompts));
        return pages.Select((p, i) => new GenerateResult(p.Items.ToArray(), policyVersion, engineSeconds, p.Prompts.ToArray(), p.First, completions.Count,
            i + 1 < pages.Count ? $"{answerId}:{i + 1}" : null)).ToList();
    }

    /// <summary>The whole answer from its pages in order, with every completion's prompt ids restored.</summary>
    public static GenerateResult Join(IReadOnlyList<GenerateResult> pages, int n)
    {
        var prompts = pages.SelectMany(p => p.PromptIds ?? []).ToList();
        var completions = pages.SelectMany(p => p.Completions).ToArray();
        int total = pages[0].TotalCompletions;
        if (completions.Length != total || pages.Select(p => p.FirstCompletion).Where((f, i) => f != pages.Take(i).Sum(q => q.Completions.Length)).Any())
            throw new InvalidDataException($"a paged answer reassembled to {completions.Length} of {total} completions; a page is missing or out of order.");
        var whole = completions.Select((c, j) => c.PromptIds.Length > 0 && j % n != 0 ? c : c with { PromptIds = prompts[j / n] }).ToArray();
        return new GenerateResult(whole, pages[0].PolicyVersion, pages[0].EngineSeconds, null, 0, total, null);
    }

    /// <summary>Sends one request and reads every page of its answer; each call within <paramref name="timeout"/>.</summary>
    public static async Task<GenerateResult> GenerateAsync(IRolloutWorkerGrain worker, GenerateRequest request, TimeSpan timeout)
    {
        var page = await worker.Generate(request).WaitAsync(timeout);
        var pages = new List<GenerateResult> { page };
        while (page.Continuation is { } next)
            pages.Add(page = await worker.NextPage(next).WaitAsync(TimeSpan.FromMinutes(1)));
        return Join(pages, request.N);
    }
}
