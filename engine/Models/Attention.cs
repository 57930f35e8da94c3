using Orleans.Rft.Engine.Lora;
using TorchSharp;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Models;

/// <summary>
/// Grouped-query self-attention (Ainslie et al. 2023) with RoPE; Qwen2 biases on q/k/v, Qwen3
/// per-head RMSNorm on q and k before the rotation. Field names are the HF ones.
/// </summary>
public sealed class Attention : nn.Module
{
    readonly LoraLinear q_proj, k_proj, v_proj, o_proj;
    readonly RmsNorm? q_norm, k_norm;
    readonly int heads, kvHeads, headDim;

    public Attention(ModelConfig c, ScalarType dtype, Device device) : base(nameof(Attention))
    {
        heads = c.NumAttentionHeads;
        kvHeads = c.NumKeyValueHeads;
        headDim = c.HeadDim;
        bool qkvBias = c.QkvBias || c.AttentionBias;
        q_proj = new LoraLinear(c.HiddenSize, heads * headDim, qkvBias, dtype, device);
        k_proj = new LoraLinear(c.HiddenSize, kvHeads * headDim, qkvBias, dtype, device);
        v_proj = new LoraLinear(c.HiddenSize, kvHeads * headDim, qkvBias, dtype, device);
        o_proj = new LoraLinear(heads * headDim, c.HiddenSize, c.AttentionBias, dtype, device);
        if (c.QkNorm)
        {
            q_norm = new RmsNorm(headDim, c.RmsNormEps, dtype, device);
            k_norm = new RmsNorm(headDim, c.RmsNormEps, dtype, device);
        }
        RegisterComponents();
    }

    /// <param name="x">(B, T, hidden)</param>
    /// <param name="cos">(B, 1, T, headDim), likewise <paramref name="sin"/> (signed, see <see cref="RotaryEmbedding.Angles"/>)</param>
    /// <param name="mask">(B, 1, T, Tk) boolean, true = may attend; null = plain causal (no padding, no cache)</param>
    /// <param name="decodeBias">for T = 1: <see cref="DecodeBias"/> of the mask, built once per step for every layer; null = attend to every key</param>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask, Tensor? decodeBias, IKvCache? cache, int layer)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        var q = q_proj.forward(x).view(b, t, heads, headDim);
        var k = k_proj.forward(x).view(b, t, kvHeads, headDim);
        var v = v_proj.forward(x).view(b, t, kvHeads, headDim).transpose(1, 2);   // (B, kvh, T, hd)
        if (q_norm is not null) { q = q_norm.forward(q); k = k_norm!.forward(k); }
        q = RotaryEmbedding.Apply(q.transpose(1, 2), cos, sin);                  // (B, h, T, hd)
        k = RotaryEmbedding.Apply(k.transpose(1, 2), cos, sin);                  // (B, kvh, T, hd)
        if (cache is not null) (k, v) = cache.Append(layer, k, v);               // (B, kvh, Tk, hd)

        int groups = heads / kvHeads;
        Tensor y;
        if (t == 1)
            y = DecodeAttention(q, k, v, decodeBias).view(b, 1, heads * headDim);
        else
        {
            if (groups > 1) { k = k.repeat_interleave(groups, dim: 1); v = v.repeat_interleave(groups, dim: 1); }
            y = mask is null
                ? nn.functional.scaled_dot_product_attention(q, k, v, null, 0.0, true)
                : nn.functional.scaled_dot_product_attention(q, k, v, mask, 0.0, false);
            y = y.transpose(1, 2).reshape(b, t, heads * headDim);
        }
        return o_proj.forward(y).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Attention of one query per row, <c>softmax(q kᵀ/√d + bias) v</c>, written as three batched
    /// products: the query heads that share a kv head are folded into the query axis,
    /// q (B·kvh, groups, hd) against k (B·kvh, Tk, hd), so the cached keys and values are read in
    /// place, never repeated per query head. For these shapes libtorch's fused CPU attention kernel spends most of its
    /// time setting up blocks for a two-row query; this path measured 2–3× faster at batch 64.
    /// </summary>
    /// <returns>(B·kvh, groups, hd), which is (B, heads, hd) in memory: query head j uses kv head j / groups</returns>
    Tensor DecodeAttention(Tensor q, Tensor k, Tensor v, Tensor? bias)
    {
        long b = q.shape[0], tk = k.shape[2];
        int groups = heads / kvHeads;
        var qg = q.reshape(b * kvHeads, groups, headDim);
        var kt = k.reshape(b * kvHeads, tk, headDim).transpose(1, 2);           // (B·kvh, hd, Tk), a view of the cache
        var vv = v.reshape(b * kvHeads, tk, headDim);
        double scale = 1.0 / Math.Sqrt(headDim);
        var products = qg.bmm(kt);                                                // (B·kvh, groups, Tk)
        // bias + scale·q kᵀ in one pass; (TorchSharp 0.107's Tensor.baddbmm passes its operands to libtorch in the wrong order)
        var scores = bias is null ? products.mul_(scale) : bias.add(products, alpha: scale);
        var weights = scores.dtype == ScalarType.Float32 ? scores.softmax(-1) : scores.softmax(-1, ScalarType.Float32).to(scores.dtype);
        return weights.bmm(vv);
    }

    /// <summary>
    /// The additive form of a one-token mask (B, 1, 1, Tk) (true = may attend): 0 where allowed,
    /// −∞ elsewhere, repeated per kv head as (B·kvh, 1, Tk) so every layer's first product takes it
    /// as is. Built once per decode step, not once per layer.
    /// </summary>
    public static Tensor DecodeBias(Tensor mask, int kvHeads, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        long b = mask.shape[0], tk = mask.shape[^1];
        var bias = zeros([b, 1, 1, tk], dtype, mask.device).masked_fill_(mask.reshape(b, 1, 1, tk).logical_not(), double.NegativeInfinity);
        return bias.expand(b, kvHeads, 1, tk).reshape(b * kvHeads, 1, tk).MoveToOuterDisposeScope();
    }
}
