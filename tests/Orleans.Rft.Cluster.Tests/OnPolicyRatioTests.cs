using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Cluster.Tests;

[Collection(ClusterCollection.Name)]
public sealed class OnPolicyRatioTests(ClusterFixture fixture)
{
    /// <summary>
    /// inference.temperature reaches the trainer ranks: rollouts sampled at T = 0.7 record log-probs of
    /// softmax(logits / 0.7), and the ranks train that policy, so on-policy ratios are 1 (to float
    /// rounding from the sampler's cached decode, exactly with recompute_logprobs).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task At_temperature_0_7_on_policy_steps_have_ratio_1_and_exactly_1_with_recomputed_log_probs(bool recompute)
    {
        var id = $"ratio-{recompute}";
        var spec = fixture.Spec(id, trainers: 2, maxSteps: 2);
        spec = spec with { Inference = spec.Inference with { Temperature = 0.7 }, Loss = new LossSpec(RecomputeLogProbs: recompute) };
        var snapshot = await fixture.RunToEnd(id, spec);
        Assert.True(snapshot.Status == JobStatus.Completed, snapshot.LastError);
        var history = await fixture.Cluster.Client.GetGrain<IJobGrain>(id).GetHistory(0);
        Assert.Equal(2, history.Count);
        foreach (var h in history)
        {
            if (recompute) Assert.Equal(1.0, h.RatioMean);
            else Assert.InRange(h.RatioMean, 1 - 1e-4, 1 + 1e-4);
            Assert.Equal(0.0, h.ClipFraction);
        }
    }
}
