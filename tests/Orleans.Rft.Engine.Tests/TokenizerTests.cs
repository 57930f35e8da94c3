using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
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
        var ranks = Gpt2Ranks.Load();
        var (vocab, merges) = (Gpt2Ranks.Vocab(ranks), Gpt2Ranks.Merges(ranks));
        var ours = TextTokenizer.Create(vocab, merges, new Dictionary<string, int> { ["<|endoftext|>"] = 50256 });
        var reference = TiktokenTokenizer.CreateForModel("gpt2");
        foreach (var text in new[] { Paragraph, "The quick brown fox jumps over the lazy dog.", "   leading spaces\n\nand newlines<|endoftext|>" })
        {
            Assert.Equal(reference.EncodeToIds(text).ToArray(), ours.Encode(text));
            Assert.Equal(text, ours.Decode(ours.Encode(text)));
        }
    }

    /// <summary>
    /// NFC, NFD, NFKC and NFKD satisfy the invariants of Unicode's conformance file
    /// (NormalizationTest.txt; a 1-in-16 sample is committed, RFT_NORMALIZATION_TEST names the full file).
    /// </summary>
    [Fact]
    public void Unicode_normalization_satisfies_the_conformance_invariants()
    {
        var path = Environment.GetEnvironmentVariable("RFT_NORMALIZATION_TEST")
            ?? Path.Combine(TokenizerReferenceTests.DataDirectory(), "NormalizationTest.sample.txt.gz");
        using var stream = path.EndsWith(".gz") ? (Stream)new GZipStream(File.OpenRead(path), CompressionMode.Decompress) : File.OpenRead(path);
        using var reader = new StreamReader(stream);
        int checkedLines = 0;
        while (reader.ReadLine() is string line)
        {
            if (line.Length == 0 || line[0] is '#' or '@') continue;
            var c = line.Split(';').Take(5).Select(col => string.Concat(col.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(h => char.ConvertFromUtf32(Convert.ToInt32(h, 16))))).ToArray();
            string N(int i, NormalizationForm f) => UnicodeNormalization.Normalize(c[i], f);
            for (int i = 0; i < 3; i++) Assert.True(c[1] == N(i, NormalizationForm.FormC), $"NFC of c{i + 1}: {line}");
            for (int i = 3; i < 5; i++) Assert.True(c[3] == N(i, NormalizationForm.FormC), $"NFC of c{i + 1}: {line}");
            for (int i = 0; i < 3; i++) Assert.True(c[2] == N(i, NormalizationForm.FormD), $"NFD of c{i + 1}: {line}");
            for (int i = 3; i < 5; i++) Assert.True(c[4] == N(i, NormalizationForm.FormD), $"NFD of c{i + 1}: {line}");
            for (int i = 0; i < 5; i++) Assert.True(c[3] == N(i, NormalizationForm.FormKC), $"NFKC of c{i + 1}: {line}");
            for (int i = 0; i < 5; i++) Assert.True(c[4] == N(i, NormalizationForm.FormKD), $"NFKD of c{i + 1}: {line}");
            checkedLines++;
        }
        Assert.True(checkedLines > 1000, $"only {checkedLines} lines read from {path}");
    }

    /// <summary>add_bos_token / add_eos_token in tokenizer_config.json decide what add_special_tokens adds (transformers' update_post_processor).</summary>
    [Fact]
    public void Add_bos_and_add_eos_from_tokenizer_config_rebuild_the_template()
    {
        var json = ReadGz(Path.Combine(TokenizerReferenceTests.DataDirectory(), "llama2-sp", "tokenizer.json.gz"));
        JsonObject Config(bool bos, bool eos) => new() { ["bos_token"] = "<s>", ["eos_token"] = "</s>", ["add_bos_token"] = bos, ["add_eos_token"] = eos };
        var plain = TextTokenizer.FromTokenizerJson(json, "t.json", Config(false, false)).Encode("Hello", addSpecialTokens: true);
        Assert.Equal(plain, TextTokenizer.FromTokenizerJson(json, "t.json").Encode("Hello"));
        Assert.Equal([1, .. plain, 2], TextTokenizer.FromTokenizerJson(json, "t.json", Config(true, true)).Encode("Hello", addSpecialTokens: true));
        Assert.Equal([.. plain, 2], TextTokenizer.FromTokenizerJson(json, "t.json", Config(false, true)).Encode("Hello", addSpecialTokens: true));
        // LlamaTokenizerFast rebuilds the template with its defaults (BOS, no EOS) when the config names no flag.
        var withEos = ReadGz(Path.Combine(TokenizerReferenceTests.DataDirectory(), "sp-metaspace-first", "tokenizer.json.gz"));
        var asFile = TextTokenizer.FromTokenizerJson(withEos, "t.json").Encode("Hello", addSpecialTokens: true);
        Assert.Equal(2, asFile[^1]); // that file's own template ends with </s>
        var llama = new JsonObject { ["tokenizer_class"] = "LlamaTokenizerFast", ["bos_token"] = "<s>", ["eos_token"] = "</s>" };
        Assert.Equal(asFile[..^1], TextTokenizer.FromTokenizerJson(withEos, "t.json", llama).Encode("Hello", addSpecialTokens: true));
        var noBos = new JsonObject { ["add_bos_token"] = true };
        var e = Assert.Throws<InvalidDataException>(() => TextTokenizer.FromTokenizerJson(json, "t.json", noBos, "cfg.json"));
        Assert.Contains("cfg.json: add_bos_token is true but bos_token is not set", e.Message);
    }

    /// <summary>A tokenizer.json this tokenizer cannot reproduce is refused with the field and the alternatives, not approximated.</summary>
    [Fact]
    public void Unsupported_parts_of_tokenizer_json_are_refused_naming_the_field()
    {
        var unigram = Assert.Throws<NotSupportedException>(() => TextTokenizer.FromTokenizerJson("""{"model": {"type": "Unigram", "vocab": []}}""", "m/tokenizer.json"));
        Assert.Contains("m/tokenizer.json: model.type 'Unigram' is not supported", unigram.Message);
        var pre = Assert.Throws<NotSupportedException>(() => TextTokenizer.FromTokenizerJson(
            """{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Punctuation"}]}}""", "m/tokenizer.json"));
        Assert.Contains("field 'pre_tokenizer.pretokenizers[0].type' is 'Punctuation'", pre.Message);
        var merge = Assert.Throws<InvalidDataException>(() => TextTokenizer.FromTokenizerJson(
            """{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}}""", "m/tokenizer.json"));
        Assert.Contains("model.merges[0] ('a' 'b') makes 'ab', which is not in model.vocab", merge.Message);
    }

    /// <summary>Streaming: a character split over byte tokens is emitted once, whole, when its last byte arrives.</summary>
    [Fact]
    public void Streaming_decode_holds_back_a_partial_utf8_character_until_it_is_complete()
    {
        using var model = TestModels.Micro();
        var t = model.Tokenizer;
        var ids = t.Encode("a🙂b"); // one token per byte: the emoji is four tokens
        Assert.Equal(6, ids.Length);
        var stream = t.CreateStreamingDecoder();
        Assert.Equal(["a", "", "", "", "🙂", "b"], ids.Select(stream.Push).ToArray());
        Assert.Equal("", stream.Flush());
    }

    /// <summary>
    /// A tokenizer whose config asks for clean_up_tokenization_spaces (Llama-3's does) still streams:
    /// the stream is tokenizers' decode, which the clean-up (" ." → ".") would otherwise contradict.
    /// </summary>
    [Fact]
    public void Streaming_decode_survives_clean_up_tokenization_spaces()
    {
        var json = ReadGz(Path.Combine(TokenizerReferenceTests.DataDirectory(), "llama3", "tokenizer.json.gz"));
        var cleaning = TextTokenizer.FromTokenizerJson(json, "t.json", new JsonObject { ["clean_up_tokenization_spaces"] = true });
        var raw = TextTokenizer.FromTokenizerJson(json, "t.json");
        var ids = raw.Encode("Hello . world , it 's done !");
        Assert.Equal("Hello. world, it's done!", cleaning.Decode(ids));
        var stream = cleaning.CreateStreamingDecoder();
        Assert.Equal(raw.Decode(ids), string.Concat(ids.Select(stream.Push).Append(stream.Flush())));
    }

    /// <summary>Concurrent encodes (rollout workers share one tokenizer) give the ids of a lone encode: the word cache is safe to share.</summary>
    [Fact]
    public void Concurrent_encodes_share_the_word_cache_safely()
    {
        var json = ReadGz(Path.Combine(TokenizerReferenceTests.DataDirectory(), "qwen3", "tokenizer.json.gz"));
        var texts = Enumerable.Range(0, 64).Select(i => $"{Paragraph} row {i} {new string('x', i % 7)}").ToArray();
        var alone = TextTokenizer.FromTokenizerJson(json, "t.json");
        var expected = texts.Select(t => alone.Encode(t)).ToArray();
        var shared = TextTokenizer.FromTokenizerJson(json, "t.json");
        var actual = new int[texts.Length][];
        Parallel.For(0, texts.Length * 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, k => actual[k % texts.Length] = shared.Encode(texts[k % texts.Length]));
        for (int i = 0; i < texts.Length; i++) Assert.Equal(expected[i], actual[i]);
    }

    /// <summary>A folder with vocab.json + merges.txt (no tokenizer.json) encodes as the GPT-2-style tokenizer.json with the same vocabulary and merges.</summary>
    [Fact]
    public void Vocab_and_merges_files_load_as_gpt2_style_byte_level_bpe()
    {
        var root = JsonNode.Parse(ReadGz(Path.Combine(TokenizerReferenceTests.DataDirectory(), "qwen3", "tokenizer.json.gz")))!.AsObject();
        var model = root["model"]!.AsObject();
        var dir = Directory.CreateTempSubdirectory("rft-vocab-merges").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "vocab.json"), model["vocab"]!.ToJsonString());
            File.WriteAllLines(Path.Combine(dir, "merges.txt"), ["#version: 0.2", .. model["merges"]!.AsArray().Select(m => $"{m![0]} {m[1]}")]);
            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"added_tokens_decoder": {"151644": {"content": "<|im_start|>", "special": true}, "151645": {"content": "<|im_end|>", "special": true}}}""");
            var loaded = TextTokenizer.Load(dir);
            var gpt2Style = new JsonObject
            {
                ["added_tokens"] = JsonNode.Parse("""[{"id": 151644, "content": "<|im_start|>", "special": true}, {"id": 151645, "content": "<|im_end|>", "special": true}]"""),
                ["pre_tokenizer"] = JsonNode.Parse("""{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}"""),
                ["decoder"] = JsonNode.Parse("""{"type": "ByteLevel"}"""),
                ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = model["vocab"]!.DeepClone(), ["merges"] = model["merges"]!.DeepClone() },
            };
            var reference = TextTokenizer.FromTokenizerJson(gpt2Style.ToJsonString(), "gpt2-style");
            var text = Paragraph + " <|im_start|>user\nhi<|im_end|>";
            Assert.Equal(reference.Encode(text), loaded.Encode(text));
            Assert.True(loaded.IsSpecial(151645));
            Assert.Equal(text, loaded.Decode(loaded.Encode(text)));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>
    /// A split regex sees a code point beyond U+FFFF with its own general category, as tokenizers'
    /// Oniguruma does: o200k's pattern keeps upper- and lower-case letters apart. Expected pieces are
    /// tokenizers 0.22.2's <c>pre_tokenize_str</c> for this Split (taken with the binding the reference script uses).
    /// </summary>
    [Theory]
    [InlineData("CamelCase𝐀𝐁c", new[] { "Camel", "Case", "𝐀𝐁c" })]
    [InlineData("x𝐀𝐁 𝐀b𝐜", new[] { "x", "𝐀𝐁", " 𝐀b𝐜" })]
    [InlineData("DON'T𝐒s", new[] { "DON'T", "𝐒s" })]
    [InlineData("𐐀𐐨𐐩 end", new[] { "𐐀𐐨𐐩", " end" })]
    [InlineData("𝟏𝟐𝟑𝟒5", new[] { "𝟏𝟐𝟑", "𝟒5" })]
    public void Split_regex_classes_see_supplementary_code_points_by_their_own_category(string text, string[] expected)
    {
        const string o200k = @"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";
        var split = new Engine.Tokenization.PreTokenizer.Split(new System.Text.RegularExpressions.Regex(o200k), SplitBehavior.Isolated, false);
        var pieces = new List<TextPiece>();
        split.Apply([new TextPiece(text, true)], pieces);
        Assert.Equal(expected, pieces.Select(p => p.Text).ToArray());
    }

    static string ReadGz(string path)
    {
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        return new StreamReader(gz).ReadToEnd();
    }
}
