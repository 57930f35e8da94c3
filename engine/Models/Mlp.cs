using Orleans.Rft.Engine.Lora;
using TorchSharp;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Models;

/// <summary>SwiGLU feed-forward (Shazeer 2020): <c>down(silu(gate(x)) · up(x))</c>.</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    readonly LoraLinear gate_proj, up_proj, down_proj;

    public Mlp(ModelConfig c, ScalarType dtype, Device device) : base(nameof(Mlp))
    {
        gate_proj = new LoraLinear(c.HiddenSize, c.IntermediateSize, false, dtype, device);
        up_proj = new LoraLinear(c.HiddenSize, c.IntermediateSize, false, dtype, device);
        down_proj = new LoraLinear(c.IntermediateSize, c.HiddenSize, false, dtype, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = nn.functional.silu(gate_proj.forward(x)) * up_proj.forward(x);
        return down_proj.forward(h).MoveToOuterDisposeScope();
    }
}
