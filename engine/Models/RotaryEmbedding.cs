using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Models;

/// <summary>
/// Rotary position embedding (Su et al. 2021) in the HF "rotate_half" layout: the head dimension is
/// split in two halves, <c>x·cos + rotate_half(x)·sin</c> with <c>rotate_half(x) = [−x₂, x₁]</c>.
/// Frequencies <c>θ^(−2i/d)</c>, optionally rescaled as Llama-3 does (HF
/// <c>_compute_llama3_parameters</c>).
/// <para>
/// The angles are computed on the device from the positions themselves, <c>pos · invFreq</c> in
/// float32 as HF's <c>LlamaRotaryEmbedding.forward</c> does, so no table has to be sized to the
/// largest position: finding that size cost a device→host read of <c>max(positions)</c> every step.
/// </para>
/// </summary>
public sealed class RotaryEmbedding : IDisposable
{
    readonly Tensor invFreq;   // (headDim) float32: [f₀ … f_{d/2−1}, f₀ … f_{d/2−1}], the halves rotate_half pairs
    readonly Tensor sinSign;   // (headDim) float32: −1 on the first half, +1 on the second (see Apply)
    readonly ScalarType dtype;

    public RotaryEmbedding(int headDim, double theta, RopeScaling? scaling, ScalarType dtype, Device device)
    {
        this.dtype = dtype;
        var half = new float[headDim / 2];
        for (int i = 0; i < half.Length; i++)
        {
            double f = 1.0 / Math.Pow(theta, 2.0 * i / headDim);
            if (scaling is { } s)
            {
                // Llama 3.1: long wavelengths are divided by `factor`, short ones kept, the band between interpolated.
                double lowWavelen = s.OriginalMaxPositionEmbeddings / s.LowFreqFactor;
                double highWavelen = s.OriginalMaxPositionEmbeddings / s.HighFreqFactor;
                double wavelen = 2 * Math.PI / f;
                if (wavelen > lowWavelen) f /= s.Factor;
                else if (wavelen >= highWavelen)
                {
                    double smooth = (s.OriginalMaxPositionEmbeddings / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                    f = (1 - smooth) * f / s.Factor + smooth * f;
                }
            }
            half[i] = (float)f;
        }
        // both live as long as the model, not the dispose scope it happens to be built in
        invFreq = tensor(half.Concat(half).ToArray(), device: device).DetachFromDisposeScope();
        sinSign = tensor(Enumerable.Range(0, headDim).Select(i => i < half.Length ? -1f : 1f).ToArray(), device: device).DetachFromDisposeScope();
    }

    /// <summary>
    /// cos and signed sin for positions (B, T): each (B, 1, T, headDim), broadcastable over heads, in
    /// the model's dtype. The sin carries rotate_half's minus sign on its first half, so
    /// <see cref="Apply"/> rotates with one roll instead of two slices, a negation and a concatenation.
    /// </summary>
    public (Tensor Cos, Tensor SignedSin) Angles(Tensor positions)
    {
        using var scope = NewDisposeScope();
        var angles = positions.unsqueeze(-1).to(ScalarType.Float32) * invFreq;   // (B, T, d) = pos · f
        var cos = angles.cos();
        var sin = angles.sin().mul_(sinSign);
        if (dtype != ScalarType.Float32) { cos = cos.to(dtype); sin = sin.to(dtype); }
        return (cos.unsqueeze(1).MoveToOuterDisposeScope(), sin.unsqueeze(1).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Applies the rotation to x (B, heads, T, headDim) with the angles of <see cref="Angles"/>:
    /// <c>x·cos + rotate_half(x)·sin = x·cos + [x₂, x₁]·[−sin, sin]</c>, and <c>[x₂, x₁]</c> is x
    /// rolled by half the head dimension. The products are the same IEEE products as rotate_half's
    /// (negating a factor is exact).
    /// </summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor signedSin)
    {
        var rolled = x.roll(x.shape[^1] / 2, -1);
        return (x * cos).add_(rolled.mul_(signedSin));
    }

    public void Dispose() { invFreq.Dispose(); sinSign.Dispose(); }
}
