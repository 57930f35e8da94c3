using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Orleans.Rft.Engine.IO;

/// <summary>
/// A Hugging Face weights folder: <c>model.safetensors</c>, or shards
/// <c>model-0000k-of-0000n.safetensors</c> listed by <c>model.safetensors.index.json</c>
/// (<c>{"metadata": {"total_size": …}, "weight_map": {tensor: file}}</c>).
/// </summary>
public static class ShardedCheckpoint
{
    public const string SingleFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";

    /// <summary>Loads every tensor in the folder, whichever layout it uses.</summary>
    public static Dictionary<string, Tensor> Load(string directory)
    {
        var single = Path.Combine(directory, SingleFile);
        if (File.Exists(single)) return SafeTensorsFile.Load(single);
        var index = Path.Combine(directory, IndexFile);
        if (!File.Exists(index))
            throw new FileNotFoundException($"{directory}: no weights found: expected {SingleFile} or {IndexFile} with its shards.");
        JsonObject map;
        try { map = JsonNode.Parse(File.ReadAllText(index))!["weight_map"]!.AsObject(); }
        catch (Exception e) { throw new InvalidDataException($"{index}: not a valid safetensors index ({e.Message}); it needs a \"weight_map\" object."); }
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var file in map.Select(kv => kv.Value!.GetValue<string>()).Distinct())
        {
            var shard = Path.Combine(directory, file);
            if (!File.Exists(shard)) throw new FileNotFoundException($"{index}: shard '{file}' is listed but missing.");
            foreach (var (name, tensor) in SafeTensorsFile.Load(shard)) result[name] = tensor;
        }
        foreach (var (name, _) in map)
            if (!result.ContainsKey(name)) throw new InvalidDataException($"{index}: tensor '{name}' is listed but not in its shard.");
        return result;
    }

    /// <summary>
    /// Writes tensors as one file, or as shards of at most <paramref name="maxShardBytes"/> with an
    /// index when they do not fit in one.
    /// </summary>
    public static void Save(string directory, IReadOnlyDictionary<string, Tensor> tensors, long maxShardBytes = 4L << 30)
    {
        Directory.CreateDirectory(directory);
        var shards = new List<Dictionary<string, Tensor>> { new() };
        long current = 0, total = 0;
        foreach (var (name, tensor) in tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            var bytes = tensor.NumberOfElements * tensor.ElementSize;
            if (current > 0 && current + bytes > maxShardBytes) { shards.Add(new()); current = 0; }
            shards[^1][name] = tensor;
            current += bytes;
            total += bytes;
        }
        foreach (var stale in Directory.EnumerateFiles(directory, "model*.safetensors*")) File.Delete(stale);
        if (shards.Count == 1)
        {
            SafeTensorsFile.Save(Path.Combine(directory, SingleFile), shards[0]);
            return;
        }
        var weightMap = new JsonObject();
        for (int i = 0; i < shards.Count; i++)
        {
            var file = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            SafeTensorsFile.Save(Path.Combine(directory, file), shards[i]);
            foreach (var name in shards[i].Keys.Order(StringComparer.Ordinal)) weightMap[name] = file;
        }
        var index = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = total }, ["weight_map"] = weightMap };
        File.WriteAllText(Path.Combine(directory, IndexFile), index.ToJsonString(new() { WriteIndented = true }));
    }
}
