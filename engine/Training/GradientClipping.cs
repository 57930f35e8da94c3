namespace Orleans.Rft.Engine.Training;

/// <summary>Global-norm clipping as <c>torch.nn.utils.clip_grad_norm_</c>: scale by <c>min(1, max / (‖g‖ + 1e-6))</c>.</summary>
public static class GradientClipping
{
    /// <summary>
    /// A NaN or infinite global norm means some gradient element is NaN/∞ (a NaN advantage, an
    /// overflow): applying it would write NaN into the adapter and the optimizer moments, so the
    /// update is skipped instead (as AMP's GradScaler skips <c>optimizer.step</c> on inf/NaN).
    /// </summary>
    public static bool IsSkipped(double norm) => !double.IsFinite(norm);

    /// <param name="squaredNormSum">Σ‖g_k‖² over every shard k, so each rank can add its own part</param>
    public static (double Norm, double Scale) Coefficient(double squaredNormSum, double maxNorm)
    {
        var norm = Math.Sqrt(squaredNormSum);
        if (maxNorm <= 0 || double.IsNaN(norm)) return (norm, 1.0);
        return (norm, Math.Min(1.0, maxNorm / (norm + 1e-6)));
    }
}
