using Orleans.Rft.Engine.IO;
using Orleans.Rft.Engine.Training;
using static TorchSharp.torch;

namespace Orleans.Rft.Grains.Jobs;

/// <summary>
/// One rank's AdamW shard in a checkpoint, as safetensors (<c>optimizer-rank{r}.safetensors</c>):
/// <c>m</c> and <c>v</c> (float32, the shard's length) and <c>shard</c> (int64: start, length, step).
/// Raw floats are 4 bytes an element where JSON took ~12, and they read back bit-exactly.
/// Call on the device thread (it makes CPU tensors).
/// </summary>
public static class OptimizerShard
{
    /// <summary>The shard's file; a checkpoint of the previous layout (<see cref="LegacyCheckpoint"/>) holds it as JSON.</summary>
    public static string Path(string checkpoint, int rank) =>
        LegacyCheckpoint.Is(checkpoint) ? LegacyCheckpoint.OptimizerPath(checkpoint, rank) : $"{checkpoint}/optimizer-rank{rank}.safetensors";

    /// <summary>Reads the shard stored at <paramref name="path"/> (<see cref="Path"/>) in whichever format its name says.</summary>
    public static AdamWState ReadFile(byte[] bytes, string path) =>
        path.EndsWith(".json", StringComparison.Ordinal) ? LegacyCheckpoint.ReadOptimizer(bytes, path) : Read(bytes, path);

    public static byte[] Write(AdamWState state)
    {
        var file = System.IO.Path.GetTempFileName();
        try
        {
            using (NewDisposeScope())
            {
                SafeTensorsFile.Save(file, new Dictionary<string, Tensor>
                {
                    ["m"] = tensor(state.M),
                    ["v"] = tensor(state.V),
                    ["shard"] = tensor(new[] { state.Start, state.Length, state.Step }),
                });
            }
            return File.ReadAllBytes(file);
        }
        finally { File.Delete(file); }
    }

    public static AdamWState Read(byte[] bytes, string source)
    {
        var file = System.IO.Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(file, bytes);
            using var scope = NewDisposeScope();
            var tensors = SafeTensorsFile.Load(file);
            if (!tensors.TryGetValue("m", out var m) || !tensors.TryGetValue("v", out var v) || !tensors.TryGetValue("shard", out var shard) || shard.numel() != 3)
                throw new InvalidDataException($"{source}: an optimizer shard needs tensors m, v and shard[3]; found {string.Join(", ", tensors.Keys)}.");
            var header = shard.data<long>().ToArray();
            var state = new AdamWState(header[0], header[1], header[2], m.data<float>().ToArray(), v.data<float>().ToArray());
            if (state.M.LongLength != state.Length || state.V.LongLength != state.Length)
                throw new InvalidDataException($"{source}: shard length {state.Length} but m has {state.M.Length} and v {state.V.Length} elements.");
            return state;
        }
        finally { File.Delete(file); }
    }
}
