using Orleans.Rft.Engine.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Tests;

public sealed class KvCacheTests
{
    [Fact]
    public void Incremental_decoding_with_left_padding_equals_a_full_forward_within_1e4()
    {
        using var model = TestModels.Micro();
        var net = model.Network;
        var c = model.Config;
        using var _ = no_grad();
        var rows = new[] { new long[] { 5, 17, 99, 3, 42, 7, 8, 9 }, new long[] { 11, 12, 13, 14, 15, 16 } };
        int promptLen = 3;
        // full forward of each row on its own, no padding, no cache
        var expected = rows.Select(r => net.Forward(tensor(r).unsqueeze(0))[0]).ToArray();    // (T, V)

        // batched: prompts of lengths 3 and 1 (left-padded), then tokens one at a time
        var prompts = new[] { rows[0][..promptLen], rows[1][..1] };
        int maxP = prompts.Max(p => p.Length);
        var pads = prompts.Select(p => (long)(maxP - p.Length)).ToArray();
        using var cache = new KvCache(c.NumHiddenLayers, 2, c.NumKeyValueHeads, 16, c.HeadDim, ScalarType.Float32, CPU);
        var ids = zeros(2, maxP, ScalarType.Int64);
        for (int b = 0; b < 2; b++) for (int j = 0; j < prompts[b].Length; j++) ids[b, pads[b] + j] = prompts[b][j];
        var padT = tensor(pads).unsqueeze(1);
        var cols = arange(maxP).unsqueeze(0);
        var mask = ones(maxP, maxP, ScalarType.Bool).tril().unsqueeze(0).logical_and(cols.ge(padT).unsqueeze(1))
            .logical_or(eye(maxP, dtype: ScalarType.Bool).unsqueeze(0)).unsqueeze(1);
        var logits = net.Forward(ids, (cols - padT).clamp_min(0), mask, cache, lastOnly: true);
        AssertClose(expected[0][promptLen - 1], logits[0]);
        AssertClose(expected[1][0], logits[1]);
        for (int step = 0; step < 5; step++)
        {
            var next = tensor(new[] { rows[0][promptLen + step], rows[1][1 + step] }).unsqueeze(1);
            var len = cache.Length;
            var positions = full(new long[] { 2, 1 }, len, ScalarType.Int64) - padT;
            var m = arange(len + 1).unsqueeze(0).ge(padT).view(2, 1, 1, len + 1);
            logits = net.Forward(next, positions, m, cache, lastOnly: true);
            AssertClose(expected[0][promptLen + step], logits[0]);
            AssertClose(expected[1][1 + step], logits[1]);
        }
    }

    static void AssertClose(Tensor expected, Tensor actual)
    {
        var diff = (expected - actual).abs().max().ToDouble();
        Assert.True(diff < 1e-4, $"max |Δlogit| = {diff}");
    }
}
