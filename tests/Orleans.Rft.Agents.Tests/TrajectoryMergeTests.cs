using Orleans.Rft.Agents;

namespace Orleans.Rft.Agents.Tests;

/// <summary>The merge rule: a call whose prompt extends the sequence so far token for token continues it (inserted tokens masked out); any other call starts its own.</summary>
public sealed class TrajectoryMergeTests
{
    static float L(int token) => -0.1f * token; // a made-up log-prob per token, so each can be traced
    static ModelCall Call(int[] prompt, int[] completion, int version = 3) =>
        new(prompt, completion, completion.Select(L).ToArray(), "", "stop", version);

    [Fact]
    public void A_call_whose_prompt_extends_prompt_plus_completion_merges_and_the_inserted_tool_tokens_are_masked_with_zero_log_probs()
    {
        var first = Call([1, 2, 3], [10, 11, 99]);                     // assistant turn ending in its end-of-turn token
        var second = Call([1, 2, 3, 10, 11, 99, 50, 51, 52, 7], [12, 99]); // + tool message tokens + generation prompt
        var merged = Assert.Single(TrajectoryMerge.Merge([first, second]));
        Assert.Equal([1, 2, 3], merged.PromptIds);
        Assert.Equal([10, 11, 99, 50, 51, 52, 7, 12, 99], merged.CompletionIds);
        Assert.Equal([true, true, true, false, false, false, false, true, true], merged.Mask);
        Assert.Equal([L(10), L(11), L(99), 0, 0, 0, 0, L(12), L(99)], merged.LogProbs);
        Assert.Equal(2, merged.Calls);
    }

    [Fact]
    public void A_re_rendered_prefix_splits_into_its_own_sample_and_each_sample_masks_only_its_own_tokens()
    {
        var first = Call([1, 2, 3], [10, 11, 99]);
        var rerendered = Call([1, 2, 3, 10, 12, 99, 50, 7], [13, 99]);     // token 11 came back as 12: the history was re-tokenised
        var third = Call([1, 2, 3, 10, 12, 99, 50, 7, 13, 99, 60, 7], [14, 99]);
        var samples = TrajectoryMerge.Merge([first, rerendered, third]);
        Assert.Equal(2, samples.Count);
        Assert.Equal([10, 11, 99], samples[0].CompletionIds);
        Assert.All(samples[0].Mask, Assert.True);
        Assert.Equal([1, 2, 3, 10, 12, 99, 50, 7], samples[1].PromptIds);
        Assert.Equal([13, 99, 60, 7, 14, 99], samples[1].CompletionIds);
        Assert.Equal([true, true, false, false, true, true], samples[1].Mask);
    }

    [Fact]
    public void A_shorter_prompt_than_the_sequence_so_far_never_merges()
    {
        var samples = TrajectoryMerge.Merge([Call([1, 2, 3], [4, 5]), Call([1, 2, 3, 4], [6])]);
        Assert.Equal(2, samples.Count);
    }

    [Fact]
    public void Mismatched_log_probs_are_refused()
    {
        Assert.Throws<ArgumentException>(() => TrajectoryMerge.Merge([new ModelCall([1], [2, 3], [0.1f], "", "stop", 0)]));
    }
}
