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
    /// <param name="cos">(B, 1, T, headDim), likewise <paramref name="sin"/></param>
    /// <param name="mask">(B, 1, T, Tk) boolean, true = may attend; null = plain causal (no padding, no cache)</param>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask, IKvCache? cache, int layer)
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
        if (t == 1 && groups > 1)
        {
            // One query per row: fold the query heads that share a kv head into the query axis,
            // (B, kvh, groups, hd), so the cached k/v are read in place instead of being repeated.
            var qg = q.reshape(b, kvHeads, groups, headDim);
            y = nn.functional.scaled_dot_product_attention(qg, k, v, mask, 0.0, false).reshape(b, heads, 1, headDim);
        }
        else
        {
            if (groups > 1) { k = k.repeat_interleave(groups, dim: 1); v = v.repeat_interleave(groups, dim: 1); }
            y = mask is null
                ? nn.functional.scaled_dot_product_attention(q, k, v, null, 0.0, true)
                : nn.functional.scaled_dot_product_attention(q, k, v, mask, 0.0, false);
        }
        y = y.transpose(1, 2).reshape(b, t, heads * headDim);
        return o_proj.forward(y).MoveToOuterDisposeScope();
    }
}
