using Orleans.Rft.Engine.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Tests;

public sealed class AdamWShardTests
{
    [Fact]
    public void Updating_shard_by_shard_equals_updating_the_whole_vector()
    {
        manual_seed(3);
        var start = randn(103);
        var grads = Enumerable.Range(0, 4).Select(_ => randn(103)).ToArray();
        var options = new AdamWOptions(WeightDecay: 0.01);

        var whole = start.clone();
        using var wholeOpt = new AdamWShard(0, 103, options);
        foreach (var g in grads) wholeOpt.Apply(whole, g, 1e-2);

        var sharded = start.clone();
        const int ranks = 3;
        var shards = Enumerable.Range(0, ranks).Select(k => { var (s, l) = FlatParameters.Shard(103, ranks, k); return new AdamWShard(s, l, options); }).ToArray();
        foreach (var g in grads)
            foreach (var shard in shards)
            {
                var view = sharded.narrow(0, shard.Start, shard.Length);
                shard.Apply(view, g.narrow(0, shard.Start, shard.Length), 1e-2);
            }
        Assert.True(whole.allclose(sharded, rtol: 0, atol: 1e-7), "sharded AdamW drifted from whole-vector AdamW");
        Assert.Equal(103, shards.Sum(s => s.Length));
    }

    [Fact]
    public void Matches_torch_optim_AdamW_on_the_same_parameters()
    {
        manual_seed(5);
        var p = new TorchSharp.Modules.Parameter(randn(17));
        var mine = p.detach().clone();
        using var reference = optim.AdamW([p], 3e-3, 0.9, 0.999, 1e-8, weight_decay: 0.1);
        using var shard = new AdamWShard(0, 17, new AdamWOptions(WeightDecay: 0.1));
        for (int i = 0; i < 5; i++)
        {
            var g = randn(17);
            p.grad = g.clone();
            reference.step();
            shard.Apply(mine, g, 3e-3);
        }
        Assert.True(p.detach().allclose(mine, rtol: 1e-5, atol: 1e-7));
    }

    [Fact]
    public void Shards_are_contiguous_cover_the_vector_and_differ_in_size_by_at_most_one()
    {
        long next = 0;
        for (int k = 0; k < 4; k++)
        {
            var (s, l) = FlatParameters.Shard(10, 4, k);
            Assert.Equal(next, s);
            Assert.InRange(l, 2, 3);
            next = s + l;
        }
        Assert.Equal(10, next);
    }

    [Fact]
    public void Clip_coefficient_follows_clip_grad_norm()
    {
        var (norm, scale) = GradientClipping.Coefficient(9 + 16, 1.0);
        Assert.Equal(5.0, norm, 12);
        Assert.Equal(1.0 / (5 + 1e-6), scale, 12);
        Assert.Equal(1.0, GradientClipping.Coefficient(0.25, 1.0).Scale);
    }

    [Fact]
    public void Warmup_then_cosine_reaches_the_floor_at_the_last_step()
    {
        var s = new LearningRateSchedule(1e-3, WarmupSteps: 4, TotalSteps: 14, Kind: "cosine", MinRatio: 0.1);
        Assert.Equal(0.25e-3, s.At(0), 12);
        Assert.Equal(1e-3, s.At(4), 12);
        Assert.Equal(0.55e-3, s.At(9), 12);   // half-way: 0.1 + 0.9·0.5
        Assert.Equal(0.1e-3, s.At(14), 12);
    }
}
