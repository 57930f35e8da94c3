using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>A group is one prompt's n samples, never every sample of a row drawn twice in one step.</summary>
public sealed class GroupAdvantageTests
{
    static readonly JobSpec Spec = new("groups", "model", "data.jsonl", null, """{"type":"contains"}""",
        new TrainingSpec(), new InferenceSpec(N: 2), new LossSpec(), new CheckpointSpec(), 0, 0, "/");

    static PendingRollout Rollout(int row, int sample) => new(row, sample, 0, new GeneratedCompletion([1], [2], [-0.5f], "x", "stop"));
    static EvaluateOutcome Score(double s) => new(s, true, "", new Dictionary<string, double>(), false, false);

    [Fact]
    public void A_row_drawn_twice_in_a_step_is_two_groups_each_with_its_own_baseline()
    {
        // Row 5 twice (an epoch boundary inside the step): its first draw scored [1, 1], its second [0, 0].
        // Each draw has no reward variance, so nothing is learned from either; one merged group of
        // four would have taught +1 / −1 from samples that were never compared with each other.
        var runner = new JobStepRunner(Spec, [], [], null!, null!);
        var rollouts = new[] { Rollout(5, 0), Rollout(5, 1), Rollout(3, 0), Rollout(3, 1), Rollout(5, 0), Rollout(5, 1) };
        var outcomes = new[] { Score(1), Score(1), Score(1), Score(0), Score(0), Score(0) };
        var result = runner.Advantages(rollouts, outcomes);
        var adv = result.Advantages[0];
        Assert.Equal(0, adv[0]); Assert.Equal(0, adv[1]); Assert.Equal(0, adv[4]); Assert.Equal(0, adv[5]);
        Assert.True(adv[2] > 0 && adv[3] < 0, $"row 3's group has variance: {adv[2]}, {adv[3]}");
        Assert.Equal(2, result.ZeroStdGroups);
    }
}
