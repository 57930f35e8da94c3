using Orleans.Rft.Engine.Lora;
using Orleans.Rft.Engine.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Tests;

/// <summary>
/// The model forward against a reference written out here in float64 from the checkpoint's tensors
/// (embedding, RMSNorm, q/k/v/o and gate/up/down with their LoRA terms, RoPE from cos/sin computed
/// on the host, grouped-query attention as explicit softmax(q·k/√d)·v over earlier positions), so
/// the engine's decode path — angles computed on the device, one-token attention as batched
/// products with an additive mask, residuals added in place — is checked against math it does not
/// share, not against itself.
/// </summary>
public sealed class DecodeForwardTests
{
    [Fact]
    public void Rotary_angles_computed_from_positions_rotate_as_rotate_half_does_at_any_position()
    {
        const int headDim = 16;
        const double theta = 10000.0;
        using var rope = new RotaryEmbedding(headDim, theta, null, ScalarType.Float32, CPU);
        // positions far beyond any table the model might have built (the preset's max is 1024)
        var positions = new long[] { 0, 1, 7, 255, 256, 1023, 4096, 30000 };
        var x = randn(1, 3, positions.Length, headDim, generator: new Generator(5));           // (B, heads, T, d)
        var (cos, sin) = rope.Angles(tensor(positions).unsqueeze(0));
        var actual = RotaryEmbedding.Apply(x, cos, sin);
        var xs = x.to(ScalarType.Float64).data<double>().ToArray();
        var got = actual.to(ScalarType.Float64).data<double>().ToArray();
        double worst = 0;
        for (int h = 0; h < 3; h++)
            for (int t = 0; t < positions.Length; t++)
                for (int i = 0; i < headDim; i++)
                {
                    int j = i % (headDim / 2);
                    // HF forms the angle in float32 (position · inv_freq), then takes cos/sin
                    float angle = positions[t] * (float)(1.0 / Math.Pow(theta, 2.0 * j / headDim));
                    long row = ((long)h * positions.Length + t) * headDim;
                    double rotated = i < headDim / 2 ? -xs[row + i + headDim / 2] : xs[row + i - headDim / 2];
                    double expected = xs[row + i] * Math.Cos(angle) + rotated * Math.Sin(angle);
                    worst = Math.Max(worst, Math.Abs(expected - got[row + i]));
                }
        Assert.True(worst < 1e-5, $"max |Δ| = {worst}");
    }

    [Fact]
    public void Full_forward_with_lora_equals_an_independent_float64_reference_within_1e5()
    {
        using var model = AdaptedMicro();
        using var _ = no_grad();
        var row = new long[] { 5, 17, 99, 3, 42, 7, 8, 9 };
        var actual = model.Network.Forward(tensor(row).unsqueeze(0))[0];
        AssertClose(Reference(model, row), actual);
    }

    [Fact]
    public void Left_padded_decode_steps_through_the_cache_equal_an_independent_float64_reference_within_1e5()
    {
        using var model = AdaptedMicro();
        var net = model.Network;
        var c = model.Config;
        using var _ = no_grad();
        var rows = new[] { new long[] { 5, 17, 99, 3, 42, 7, 8, 9, 10 }, new long[] { 11, 12, 13, 14, 15, 16, 17 } };
        var expected = rows.Select(r => Reference(model, r)).ToArray();                        // (T, V) each
        // prompts of lengths 3 and 1, left-padded to 3, then one token per row per step, as the sampler does
        int promptLen = 3;
        long[] pads = [0, 2];
        using var cache = new KvCache(c.NumHiddenLayers, 2, c.NumKeyValueHeads, 16, c.HeadDim, ScalarType.Float32, CPU);
        var ids = zeros(2, promptLen, ScalarType.Int64);
        for (int j = 0; j < 3; j++) ids[0, j] = rows[0][j];
        ids[1, 2] = rows[1][0];
        var padT = tensor(pads).unsqueeze(1);
        var cols = arange(promptLen).unsqueeze(0);
        var mask = ones(promptLen, promptLen, ScalarType.Bool).tril().unsqueeze(0).logical_and(cols.ge(padT).unsqueeze(1))
            .logical_or(eye(promptLen, dtype: ScalarType.Bool).unsqueeze(0)).unsqueeze(1);
        var logits = net.Forward(ids, (cols - padT).clamp_min(0), mask, cache, lastOnly: true);
        AssertClose(expected[0][promptLen - 1], logits[0]);
        AssertClose(expected[1][0], logits[1]);
        for (int step = 0; step < 6; step++)
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

    [Fact]
    public void A_decode_step_without_a_mask_attends_to_every_cached_key()
    {
        // No padding: the mask may be left out at T = 1 (one query sees the whole cache), and the
        // result is that of an all-true mask.
        using var model = AdaptedMicro();
        var net = model.Network;
        var c = model.Config;
        using var _ = no_grad();
        var prompt = tensor(new long[] { 4, 8, 15, 16, 23 }).unsqueeze(0);
        var positions = arange(5).unsqueeze(0);
        Tensor Step(bool withMask)
        {
            using var cache = new KvCache(c.NumHiddenLayers, 1, c.NumKeyValueHeads, 8, c.HeadDim, ScalarType.Float32, CPU);
            net.Forward(prompt, positions, null, cache, lastOnly: true);
            return net.Forward(tensor(new long[] { 42 }).unsqueeze(0), full(new long[] { 1, 1 }, 5L), withMask ? ones(1, 1, 1, 6, ScalarType.Bool) : null, cache, lastOnly: true);
        }
        AssertClose(Reference(model, [4, 8, 15, 16, 23, 42])[5], Step(withMask: false)[0]);
        AssertClose(Step(withMask: true), Step(withMask: false));
    }

    /// <summary>The micro preset with a rank-4 adapter whose B is non-zero, so every LoRA term counts.</summary>
    static LanguageModel AdaptedMicro()
    {
        var model = TestModels.Micro(seed: 3);
        model.AttachLora(new LoraConfig(Rank: 4, Alpha: 8), seed: 2);
        using var _ = no_grad();
        var g = new Generator(11);
        foreach (var (_, p) in model.LoraParameters().Where(p => p.Name.EndsWith("lora_B")))
            p.copy_(randn(p.shape, generator: g) * 0.05);
        return model;
    }

    static void AssertClose(Tensor expected, Tensor actual)
    {
        var diff = (expected.to(ScalarType.Float64) - actual.to(ScalarType.Float64)).abs().max().ToDouble();
        Assert.True(diff < 1e-5, $"max |Δlogit| = {diff}");
    }

    /// <summary>Logits (T, V) of one unpadded row at positions 0..T−1, in float64, from the named tensors alone.</summary>
    static Tensor Reference(LanguageModel model, long[] row)
    {
        var c = model.Config;
        var w = model.Network.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().to(ScalarType.Float64));
        double loraScale = model.Lora!.Alpha / model.Lora.Rank;
        Tensor Linear(Tensor x, string path)
        {
            var y = x.matmul(w[path + ".weight"].t());
            return w.TryGetValue(path + ".lora_A", out var a) ? y + x.matmul(a.t()).matmul(w[path + ".lora_B"].t()) * loraScale : y;
        }
        Tensor Norm(Tensor x, string path) => x / (x.pow(2).mean([-1], keepdim: true) + c.RmsNormEps).sqrt() * w[path + ".weight"];
        int t = row.Length, hd = c.HeadDim, heads = c.NumAttentionHeads, kvh = c.NumKeyValueHeads;
        var cosTable = new double[t * hd];
        var sinTable = new double[t * hd];
        for (int p = 0; p < t; p++)
            for (int i = 0; i < hd; i++)
            {
                double angle = p / Math.Pow(c.RopeTheta, 2.0 * (i % (hd / 2)) / hd);
                cosTable[p * hd + i] = Math.Cos(angle);
                sinTable[p * hd + i] = Math.Sin(angle);
            }
        var cos = tensor(cosTable).view(1, t, hd);
        var sin = tensor(sinTable).view(1, t, hd);
        Tensor Rope(Tensor x) => x * cos + cat([-x[.., .., (hd / 2)..], x[.., .., ..(hd / 2)]], -1) * sin;   // x (heads, T, hd)
        var causal = ones(t, t, ScalarType.Bool).tril();

        var h = w["model.embed_tokens.weight"].index_select(0, tensor(row));                 // (T, hidden)
        for (int l = 0; l < c.NumHiddenLayers; l++)
        {
            var prefix = $"model.layers.{l}";
            var x = Norm(h, prefix + ".input_layernorm");
            var q = Rope(Linear(x, prefix + ".self_attn.q_proj").view(t, heads, hd).transpose(0, 1));
            var k = Rope(Linear(x, prefix + ".self_attn.k_proj").view(t, kvh, hd).transpose(0, 1));
            var v = Linear(x, prefix + ".self_attn.v_proj").view(t, kvh, hd).transpose(0, 1);
            var outs = new List<Tensor>();
            for (int head = 0; head < heads; head++)
            {
                int kv = head / (heads / kvh);
                var scores = q[head].matmul(k[kv].t()) / Math.Sqrt(hd);                        // (T, T)
                var weights = scores.masked_fill(causal.logical_not(), double.NegativeInfinity).softmax(-1);
                outs.Add(weights.matmul(v[kv]));                                             // (T, hd)
            }
            h = h + Linear(cat(outs, -1), prefix + ".self_attn.o_proj");
            x = Norm(h, prefix + ".post_attention_layernorm");
            var gate = Linear(x, prefix + ".mlp.gate_proj");
            h = h + Linear(gate * gate.sigmoid() * Linear(x, prefix + ".mlp.up_proj"), prefix + ".mlp.down_proj");
        }
        h = Norm(h, "model.norm");
        return h.matmul((w.TryGetValue("lm_head.weight", out var head_) ? head_ : w["model.embed_tokens.weight"]).t());
    }
}
