using System.IO.Compression;
using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Tokenization;

namespace Orleans.Rft.Engine.Tests;

/// <summary>
/// Ids and decoded text equal Hugging Face tokenizers' (Rust 0.22.2) on real tokenizer files —
/// Llama-3, Qwen3, Gemma-3, a 32k SentencePiece BPE with byte fallback — and on variants of them
/// that exercise the other pre-tokenizers, normalizers and added-token flags. Expected values were
/// written by scripts/tokenizer-reference/make-expected.mjs (see there for how and why the files
/// are pruned) into Tokenizers/&lt;name&gt;/expected.json.
/// </summary>
public sealed class TokenizerReferenceTests
{
    public static TheoryData<string> Variants() => new(
        "llama2-sp", "sp-metaspace-first", "sp-metaspace-split", "llama3", "bytelevel-gpt2",
        "normalizers-digits-flags", "qwen3", "split-behaviours", "gemma3", "o200k-split");

    [Theory]
    [MemberData(nameof(Variants))]
    public void Ids_equal_tokenizers_with_and_without_special_tokens(string variant)
    {
        var (tokenizer, expected) = Load(variant);
        foreach (var row in expected["rows"]!.AsArray())
        {
            var text = row!["text"]!.GetValue<string>();
            Assert.True(Ids(row["ids"]).SequenceEqual(tokenizer.Encode(text)),
                $"{variant}: {Show(text)}\n expected {string.Join(",", Ids(row["ids"]))}\n actual   {string.Join(",", tokenizer.Encode(text))}");
            Assert.Equal(Ids(row["ids_with_special_tokens"]), tokenizer.Encode(text, addSpecialTokens: true));
        }
        var pair = expected["pair"]!;
        Assert.Equal(Ids(pair["ids"]), tokenizer.EncodePair(pair["first"]!.GetValue<string>(), pair["second"]!.GetValue<string>()));
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Decoded_text_equals_tokenizers_with_and_without_skipping_special_tokens(string variant)
    {
        var (tokenizer, expected) = Load(variant);
        foreach (var row in expected["rows"]!.AsArray())
        {
            var ids = Ids(row!["ids_with_special_tokens"]);
            Assert.Equal(row["decoded"]!.GetValue<string>(), tokenizer.Decode(ids));
            Assert.Equal(row["decoded_skip_special"]!.GetValue<string>(), tokenizer.Decode(ids, skipSpecialTokens: true));
        }
    }

    /// <summary>Streaming one id at a time gives exactly the text of decoding all at once, and never a broken character.</summary>
    [Theory]
    [MemberData(nameof(Variants))]
    public void Streaming_decode_concatenates_to_the_full_decode_without_replacement_characters(string variant)
    {
        var (tokenizer, expected) = Load(variant);
        foreach (var row in expected["rows"]!.AsArray())
        {
            var ids = Ids(row!["ids_with_special_tokens"]);
            var stream = tokenizer.CreateStreamingDecoder();
            var parts = ids.Select(stream.Push).Append(stream.Flush()).ToList();
            var full = tokenizer.Decode(ids);
            Assert.Equal(full, string.Concat(parts));
            if (!full.Contains('\uFFFD')) Assert.DoesNotContain(parts, p => p.Contains('\uFFFD'));
        }
    }

    static (TextTokenizer, JsonObject) Load(string variant)
    {
        var dir = Path.Combine(DataDirectory(), variant);
        using var gz = new GZipStream(File.OpenRead(Path.Combine(dir, "tokenizer.json.gz")), CompressionMode.Decompress);
        var json = new StreamReader(gz).ReadToEnd();
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "tokenizer_config.json")))!.AsObject();
        var tokenizer = TextTokenizer.FromTokenizerJson(json, $"{variant}/tokenizer.json", config);
        return (tokenizer, JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "expected.json")))!.AsObject());
    }

    /// <summary>The Tokenizers folder of this project's sources (test data is read in place, not copied).</summary>
    public static string DataDirectory()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "tests", "Orleans.Rft.Engine.Tests", "Tokenizers");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("tests/Orleans.Rft.Engine.Tests/Tokenizers not found above " + AppContext.BaseDirectory);
    }

    static int[] Ids(JsonNode? node) => node!.AsArray().Select(x => x!.GetValue<int>()).ToArray();

    static string Show(string text) => text.Replace("\n", "\\n").Replace("\r", "\\r").Replace("\t", "\\t");
}
