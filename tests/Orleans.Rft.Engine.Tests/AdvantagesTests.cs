using Orleans.Rft.Engine.Training;

namespace Orleans.Rft.Engine.Tests;

public sealed class AdvantagesTests
{
    [Fact]
    public void Grpo_scales_by_the_unbiased_group_std_plus_1e4()
    {
        // rewards 1,0,1,0: mean 0.5, std = sqrt(4·0.25/3) = 0.57735
        var r = Advantages.Compute([[1.0, 0.0, 1.0, 0.0]], RewardScaling.Group);
        Assert.Equal(0.5 / (Math.Sqrt(1.0 / 3) + 1e-4), r.Advantages[0][0], 10);
        Assert.Equal(-0.5 / (Math.Sqrt(1.0 / 3) + 1e-4), r.Advantages[0][1], 10);
    }

    [Fact]
    public void Dr_grpo_only_subtracts_the_group_mean()
    {
        var r = Advantages.Compute([[0.9, 0.3, 0.0]], RewardScaling.None);
        Assert.Equal(0.9 - 0.4, r.Advantages[0][0], 12);
        Assert.Equal(0.0 - 0.4, r.Advantages[0][2], 12);
    }

    [Fact]
    public void Batch_scaling_divides_by_the_std_of_every_valid_reward_in_the_step()
    {
        var r = Advantages.Compute([[1.0, 0.0], [1.0, 1.0]], RewardScaling.Batch);
        var batchStd = Math.Sqrt((3 * 0.0625 + 0.5625) / 3); // rewards 1,0,1,1: mean 0.75, unbiased std 0.5
        Assert.Equal(0.5 / (batchStd + 1e-4), r.Advantages[0][0], 10);
        Assert.Equal(0.0, r.Advantages[1][0], 12);
    }

    [Fact]
    public void Invalid_samples_get_zero_and_are_left_out_of_the_group_baseline()
    {
        var r = Advantages.Compute([[1.0, null, 0.0]], RewardScaling.None);
        Assert.Equal(0.5, r.Advantages[0][0], 12);     // mean of the valid 1 and 0 only
        Assert.Equal(0.0, r.Advantages[0][1], 12);
        Assert.Equal(1, r.InvalidSamples);
    }

    [Fact]
    public void Groups_with_identical_rewards_get_zero_advantage_and_are_counted()
    {
        var r = Advantages.Compute([[1.0, 1.0, 1.0], [0.0, 1.0, 0.0]], RewardScaling.Group);
        Assert.All(r.Advantages[0], a => Assert.Equal(0.0, a));
        Assert.Equal(1, r.ZeroStdGroups);
    }
}
