using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Models;

/// <summary>RMSNorm (Zhang &amp; Sennrich 2019): <c>x · rsqrt(mean(x²) + eps) · weight</c>, computed in float32 as HF does.</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    readonly Parameter weight;
    readonly double eps;

    public RmsNorm(long size, double eps, ScalarType dtype, Device device) : base(nameof(RmsNorm))
    {
        weight = new Parameter(ones(size, dtype, device), requires_grad: false);
        this.eps = eps;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        // float32 input (the usual compute dtype here) skips both conversions: each is a call and a tensor per norm per token
        bool wide = x.dtype == ScalarType.Float32;
        var x32 = wide ? x : x.to(ScalarType.Float32);
        var normed = x32 * rsqrt(x32.pow(2).mean([-1], keepdim: true) + eps);
        return ((wide ? normed : normed.to(x.dtype)) * weight).MoveToOuterDisposeScope();
    }
}
