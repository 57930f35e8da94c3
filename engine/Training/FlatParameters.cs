using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.Training;

/// <summary>
/// The LoRA parameters as one flat float32 vector, in the canonical order of
/// <see cref="Models.LanguageModel.LoraParameters"/>. Trainer ranks shard this vector (ZeRO stage 1/2:
/// each rank owns one contiguous slice and its optimizer state).
/// </summary>
public static class FlatParameters
{
    public static long Count(IEnumerable<Parameter> parameters) => parameters.Sum(p => p.NumberOfElements);

    /// <summary>A new vector (on the parameters' device) holding the parameter values.</summary>
    public static Tensor Flatten(IReadOnlyList<Parameter> parameters)
    {
        using var _ = no_grad();
        return cat(parameters.Select(p => p.detach().reshape(-1).to(ScalarType.Float32)).ToArray());
    }

    /// <summary>The gradients as one vector (zeros where a parameter has none yet).</summary>
    public static Tensor FlattenGradients(IReadOnlyList<Parameter> parameters)
    {
        using var _ = no_grad();
        return cat(parameters.Select(p => (p.grad is { } g ? g.reshape(-1) : zeros(p.NumberOfElements, p.dtype, p.device)).to(ScalarType.Float32)).ToArray());
    }

    /// <summary>Copies a flat vector back into the parameters.</summary>
    public static void Assign(IReadOnlyList<Parameter> parameters, Tensor flat)
    {
        using var _ = no_grad();
        long offset = 0;
        foreach (var p in parameters)
        {
            var n = p.NumberOfElements;
            p.copy_(flat.narrow(0, offset, n).view(p.shape));
            offset += n;
        }
        if (offset != flat.shape[0]) throw new ArgumentException($"flat vector has {flat.shape[0]} elements, the parameters {offset}.");
    }

    /// <summary>Rank k's contiguous slice of a vector of <paramref name="total"/> elements cut into <paramref name="ranks"/> near-equal shards.</summary>
    public static (long Start, long Length) Shard(long total, int ranks, int rank)
    {
        if (ranks < 1 || rank < 0 || rank >= ranks) throw new ArgumentOutOfRangeException(nameof(rank), $"rank {rank} of {ranks}.");
        long baseSize = total / ranks, extra = total % ranks;
        long start = rank * baseSize + Math.Min(rank, extra);
        return (start, baseSize + (rank < extra ? 1 : 0));
    }
}
