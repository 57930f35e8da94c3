using Orleans.Rft.Grains.Jobs;

namespace Orleans.Rft.Client.Tests;

/// <summary>A groupwise evaluator gets each prompt's rollouts whole, in one call, and only when the spec asks for it.</summary>
public sealed class GroupwiseCallsTests
{
    [Fact]
    public void Each_group_is_one_call_and_a_row_drawn_twice_is_two_groups()
    {
        // row 3 × 3 samples, row 5 × 3, row 5 drawn again × 3, then eval-style groups of one (sample 0 each)
        var rollouts = new List<(int Row, int Sample)> { (3, 0), (3, 1), (3, 2), (5, 0), (5, 1), (5, 2), (5, 0), (5, 1), (5, 2), (7, 0), (7, 0) };
        var (calls, oversize) = JobStepRunner.GroupCalls(rollouts, rollouts.Select(_ => 10).ToArray(), maxBytes: 1000);
        Assert.Equal([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9], [10]], calls);
        Assert.Empty(oversize);
    }

    [Fact]
    public void A_group_too_big_for_one_call_is_oversize_as_a_whole_and_the_others_are_still_sent()
    {
        var rollouts = new List<(int Row, int Sample)> { (1, 0), (1, 1), (2, 0), (2, 1) };
        var (calls, oversize) = JobStepRunner.GroupCalls(rollouts, [10, 10, 60, 50], maxBytes: 100);
        Assert.Equal([[0, 1]], calls);
        Assert.Equal([2, 3], oversize);
    }

    [Theory]
    [InlineData("""{"type":"python","path":"r.py","groupwise":true}""", true)]
    [InlineData("""{"type":"python","path":"r.py","groupwise":false}""", false)]
    [InlineData("""{"type":"python","path":"r.py"}""", false)]
    [InlineData("""{"type":"numeric"}""", false)]
    public void Only_an_evaluator_that_says_groupwise_is_sent_groups(string spec, bool groupwise) =>
        Assert.Equal(groupwise, JobStepRunner.Groupwise(spec));
}
