using TorchSharp;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Models;

/// <summary>Pre-norm transformer block: <c>h = x + attn(norm(x)); out = h + mlp(norm(h))</c>.</summary>
public sealed class DecoderLayer : nn.Module
{
    readonly RmsNorm input_layernorm, post_attention_layernorm;
    readonly Attention self_attn;
    readonly Mlp mlp;

    public DecoderLayer(ModelConfig c, ScalarType dtype, Device device) : base(nameof(DecoderLayer))
    {
        input_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, dtype, device);
        self_attn = new Attention(c, dtype, device);
        post_attention_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, dtype, device);
        mlp = new Mlp(c, dtype, device);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask, Tensor? decodeBias, IKvCache? cache, int layer)
    {
        using var scope = NewDisposeScope();
        // the sublayers' outputs are fresh tensors, so the residual is added into them in place
        // (safe under autograd: an addition's backward needs neither operand)
        var h = self_attn.Forward(input_layernorm.forward(x), cos, sin, mask, decodeBias, cache, layer).add_(x);
        return mlp.forward(post_attention_layernorm.forward(h)).add_(h).MoveToOuterDisposeScope();
    }
}
