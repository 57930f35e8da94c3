using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Training;

/// <summary>
/// AdamW over one contiguous shard of the flat parameter vector, with that shard's own moments.
/// Element-wise, so updating shard by shard equals updating the whole vector at once. Update as in
/// <c>torch.optim.AdamW</c>: <c>p ← p − lr·λ·p; m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
/// p ← p − lr · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε)</c>.
/// </summary>
public sealed class AdamWShard : IDisposable
{
    readonly Tensor m, v;

    public AdamWShard(long start, long length, AdamWOptions options, Device? device = null)
    {
        Start = start;
        Length = length;
        Options = options;
        m = zeros(length, ScalarType.Float32, device);
        v = zeros(length, ScalarType.Float32, device);
    }

    public long Start { get; }
    public long Length { get; }
    public AdamWOptions Options { get; }
    public long Step { get; private set; }

    /// <summary>Updates <paramref name="parameters"/> (this shard, (Length)) in place from <paramref name="gradient"/> (Length).</summary>
    public void Apply(Tensor parameters, Tensor gradient, double learningRate)
    {
        if (parameters.shape[0] != Length || gradient.shape[0] != Length)
            throw new ArgumentException($"shard has {Length} elements; got parameters {parameters.shape[0]}, gradient {gradient.shape[0]}.");
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        Step++;
        var (b1, b2) = (Options.Beta1, Options.Beta2);
        if (Options.WeightDecay != 0) parameters.mul_(1 - learningRate * Options.WeightDecay);
        m.mul_(b1).add_(gradient, alpha: 1 - b1);
        v.mul_(b2).addcmul_(gradient, gradient, value: 1 - b2);
        var biasCorrection1 = 1 - Math.Pow(b1, Step);
        var biasCorrection2 = 1 - Math.Pow(b2, Step);
        var denom = (v / biasCorrection2).sqrt_().add_(Options.Eps);
        parameters.addcdiv_(m, denom, value: -learningRate / biasCorrection1);
    }

    /// <summary>The moments and step, for checkpoints.</summary>
    public AdamWState Export() => new(Start, Length, Step, m.cpu().data<float>().ToArray(), v.cpu().data<float>().ToArray());

    public void Import(AdamWState state)
    {
        if (state.Start != Start || state.Length != Length) throw new ArgumentException($"optimizer state is for shard [{state.Start}, +{state.Length}), this shard is [{Start}, +{Length}).");
        using var _ = no_grad();
        m.copy_(tensor(state.M));
        v.copy_(tensor(state.V));
        Step = state.Step;
    }

    public void Dispose() { m.Dispose(); v.Dispose(); }
}

/// <summary>A shard's optimizer state as plain arrays.</summary>
public sealed record AdamWState(long Start, long Length, long Step, float[] M, float[] V);
