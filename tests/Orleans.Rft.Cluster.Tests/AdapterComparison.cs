using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>Final adapters as flat float vectors, for comparing a resumed job with an uninterrupted one.</summary>
public static class AdapterComparison
{
    /// <summary>
    /// Tolerance for "the same adapter": the CPU engine is deterministic for a fixed topology, so a
    /// resumed run equals an uninterrupted one to the last bit in practice; 1e-6 leaves room for a
    /// summation order and is three orders of magnitude below one Adam step (lr = 0.05).
    /// </summary>
    public const float Tolerance = 1e-6f;

    public static async Task<float[]> Flat(IJobGrain job, string directory)
    {
        await Client.Jobs.AdapterExporter.ExportAsync(job, null, directory);
        var tensors = Engine.IO.SafeTensorsFile.Load(Path.Combine(directory, "adapter_model.safetensors"));
        try { return tensors.OrderBy(t => t.Key, StringComparer.Ordinal).SelectMany(t => t.Value.data<float>().ToArray()).ToArray(); }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
    }

    /// <summary>Asserts <paramref name="actual"/> equals <paramref name="expected"/> within <see cref="Tolerance"/> and that training moved it.</summary>
    public static void AssertSame(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var maxDiff = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(maxDiff <= Tolerance, $"{what}: max |Δ| = {maxDiff} against an uninterrupted run with the same seed");
        Assert.Contains(expected, v => v != 0);
    }
}
