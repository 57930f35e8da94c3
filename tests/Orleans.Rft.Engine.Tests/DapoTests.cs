using Orleans.Rft.Engine.Training;

namespace Orleans.Rft.Engine.Tests;

/// <summary>DAPO's overlong shaping (eq. 13) and dynamic-sampling filter (eq. 11) against hand-computed values.</summary>
public sealed class DapoTests
{
    // L_max = 20, L_cache = 4: free up to 16 tokens, then (16 − |y|) / 4, −1 beyond 20.
    [Theory]
    [InlineData(10, 4, 1.0, 0.0)]
    [InlineData(16, 4, 1.0, 0.0)]      // the last token before the buffer: no penalty
    [InlineData(17, 4, 1.0, -0.25)]
    [InlineData(18, 4, 1.0, -0.5)]
    [InlineData(20, 4, 1.0, -1.0)]     // cut at max_tokens: the full penalty
    [InlineData(21, 4, 1.0, -1.0)]     // beyond L_max (eq. 13's third case)
    [InlineData(18, 4, 0.5, -0.25)]    // scaled by overlong_penalty
    [InlineData(20, 0, 1.0, 0.0)]      // buffer 0: shaping off
    [InlineData(3, 20, 1.0, -0.15)]    // buffer = L_max: (0 − 3) / 20
    public void Overlong_penalty_is_linear_over_the_last_buffer_tokens_before_max_tokens(int length, int buffer, double penalty, double expected) =>
        Assert.Equal(expected, OverlongShaping.Penalty(length, 20, buffer, penalty), 12);

    [Fact]
    public void Shaping_adds_the_penalty_to_valid_rewards_and_leaves_invalid_ones_invalid()
    {
        Assert.Equal(0.25, OverlongShaping.Shape(1.0, 19, 20, 4, 1.0)!.Value, 12);   // 1 + (16 − 19)/4
        Assert.Null(OverlongShaping.Shape(null, 19, 20, 4, 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => OverlongShaping.Penalty(5, 20, 21, 1.0));
    }

    public static TheoryData<double?[], bool> Groups => new()
    {
        { [1.0, 1.0, 1.0, 1.0], false },   // all right: zero advantage everywhere
        { [0.0, 0.0, 0.0], false },        // all wrong
        { [0.0, 1.0, 0.0], true },
        { [1.0, null, 1.0], false },       // invalid scores stay out of the variance
        { [1.0, null, 0.0], true },
        { [null, null], false },
        { [0.5], false },                  // one valid reward has no variance
        { [], false },
        { [1.0, 1.0 + 1e-9], true },       // any difference is signal
    };

    [Theory]
    [MemberData(nameof(Groups))]
    public void A_group_has_signal_iff_its_valid_rewards_differ(double?[] rewards, bool kept) =>
        Assert.Equal(kept, GroupFilter.HasSignal(rewards));

    [Fact]
    public void Kept_lists_the_groups_with_signal_in_order()
    {
        IReadOnlyList<IReadOnlyList<double?>> groups = [[1.0, 1.0], [0.0, 1.0], [0.0, 0.0], [0.2, null, 0.9]];
        Assert.Equal([1, 3], GroupFilter.Kept(groups));
    }
}
