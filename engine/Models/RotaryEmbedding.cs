using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Models;

/// <summary>
/// Rotary position embedding (Su et al. 2021) in the HF "rotate_half" layout: the head dimension is
/// split in two halves, <c>x·cos + rotate_half(x)·sin</c> with <c>rotate_half(x) = [−x₂, x₁]</c>.
/// Frequencies <c>θ^(−2i/d)</c>, optionally rescaled as Llama-3 does (HF
/// <c>_compute_llama3_parameters</c>). The cos/sin table grows on demand.
/// </summary>
public sealed class RotaryEmbedding : IDisposable
{
    readonly float[] invFreq;
    readonly Device device;
    readonly ScalarType dtype;
    Tensor? cos, sin; // (maxPos, headDim)
    long cached;

    public RotaryEmbedding(int headDim, double theta, RopeScaling? scaling, ScalarType dtype, Device device)
    {
        this.device = device;
        this.dtype = dtype;
        invFreq = new float[headDim / 2];
        for (int i = 0; i < invFreq.Length; i++)
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
            invFreq[i] = (float)f;
        }
    }

    void Ensure(long length)
    {
        if (length <= cached) return;
        var size = Math.Max(256, cached * 2);
        while (size < length) size *= 2;
        cos?.Dispose(); sin?.Dispose();
        using var scope = NewDisposeScope();
        var t = arange(size, dtype: ScalarType.Float32);
        var freqs = outer(t, tensor(invFreq));              // (size, d/2)
        var emb = cat([freqs, freqs], dim: -1);               // (size, d)
        cos = emb.cos().to(dtype, device).DetachFromDisposeScope(); // lives as long as the model, not the current step
        sin = emb.sin().to(dtype, device).DetachFromDisposeScope();
        cached = size;
    }

    /// <summary>cos and sin for positions (B, T): each (B, 1, T, headDim), broadcastable over heads.</summary>
    public (Tensor Cos, Tensor Sin) Lookup(Tensor positions, long maxPosition)
    {
        Ensure(maxPosition + 1);
        var shape = positions.shape;
        var flat = positions.reshape(-1);
        var c = cos!.index_select(0, flat).view(shape[0], 1, shape[1], -1);
        var s = sin!.index_select(0, flat).view(shape[0], 1, shape[1], -1);
        return (c, s);
    }

    /// <summary>Applies the rotation to x (B, heads, T, headDim).</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        var half = x.shape[^1] / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        var rotated = cat([-x2, x1], dim: -1);
        return x * cos + rotated * sin;
    }

    public void Dispose() { cos?.Dispose(); sin?.Dispose(); }
}
