using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Orleans.Rft.Engine.Tokenization;

/// <summary>
/// Byte-level BPE as Qwen2, Llama-3 and the project's tiny models ship it, on
/// Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/>. Loads <c>tokenizer.json</c> (vocab, merges in
/// both the <c>"a b"</c> and <c>["a","b"]</c> forms, added tokens, the pre-tokenizer's split regex) or
/// <c>vocab.json</c> + <c>merges.txt</c>. Special tokens written in the text encode to their ids.
/// </summary>
public sealed class TextTokenizer
{
    /// <summary>GPT-2's pre-tokenizer pattern, used when tokenizer.json names no Split regex.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    readonly BpeTokenizer bpe;
    readonly Dictionary<string, int> special;
    readonly Dictionary<int, string> specialById;

    TextTokenizer(BpeTokenizer bpe, Dictionary<string, int> special, int vocabSize)
    {
        this.bpe = bpe;
        this.special = special;
        specialById = special.ToDictionary(kv => kv.Value, kv => kv.Key);
        VocabSize = vocabSize;
    }

    public int VocabSize { get; }
    public IReadOnlyDictionary<string, int> SpecialTokens => special;

    public static TextTokenizer Create(IReadOnlyDictionary<string, int> vocab, IEnumerable<string> merges,
        IReadOnlyDictionary<string, int> specialTokens, string pattern = Gpt2Pattern)
    {
        var specials = new Dictionary<string, int>(specialTokens);
        var options = new BpeOptions(vocab.Where(kv => !specials.ContainsKey(kv.Key)))
        {
            Merges = merges,
            SpecialTokens = specials,
            PreTokenizer = new RegexPreTokenizer(new Regex(pattern, RegexOptions.Compiled), specials),
            ByteLevel = true,
        };
        var size = Math.Max(vocab.Count == 0 ? 0 : vocab.Values.Max() + 1, specials.Count == 0 ? 0 : specials.Values.Max() + 1);
        return new TextTokenizer(BpeTokenizer.Create(options), specials, size);
    }

    /// <summary>Loads from a model folder: tokenizer.json, else vocab.json + merges.txt.</summary>
    public static TextTokenizer Load(string directory)
    {
        var json = Path.Combine(directory, "tokenizer.json");
        if (File.Exists(json)) return FromTokenizerJson(File.ReadAllText(json), json, AddedTokensFromConfig(directory));
        var vocabPath = Path.Combine(directory, "vocab.json");
        var mergesPath = Path.Combine(directory, "merges.txt");
        if (!File.Exists(vocabPath) || !File.Exists(mergesPath))
            throw new FileNotFoundException($"{directory}: no tokenizer found: expected tokenizer.json, or vocab.json and merges.txt.");
        var vocab = JsonNode.Parse(File.ReadAllText(vocabPath))!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<int>());
        var merges = File.ReadLines(mergesPath).Where(l => l.Length > 0 && !l.StartsWith("#version"));
        return Create(vocab, merges, AddedTokensFromConfig(directory));
    }

    public static TextTokenizer FromTokenizerJson(string text, string source, IReadOnlyDictionary<string, int>? extraSpecials = null)
    {
        JsonObject root;
        try { root = JsonNode.Parse(text)!.AsObject(); }
        catch (Exception e) { throw new InvalidDataException($"{source}: not valid JSON ({e.Message})."); }
        var model = root["model"] as JsonObject ?? throw new InvalidDataException($"{source}: field 'model' is missing.");
        var type = model["type"]?.GetValue<string>();
        if (type is not null && type != "BPE")
            throw new NotSupportedException($"{source}: tokenizer model type '{type}' is not supported (byte-level BPE only).");
        var vocab = (model["vocab"] as JsonObject ?? throw new InvalidDataException($"{source}: field 'model.vocab' is missing."))
            .ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<int>());
        var merges = (model["merges"] as JsonArray ?? [])
            .Select(m => m is JsonArray pair ? $"{pair[0]!.GetValue<string>()} {pair[1]!.GetValue<string>()}" : m!.GetValue<string>())
            .ToList();
        var specials = new Dictionary<string, int>();
        if (extraSpecials is not null) foreach (var (k, v) in extraSpecials) specials[k] = v;
        foreach (var added in root["added_tokens"] as JsonArray ?? [])
            specials[added!["content"]!.GetValue<string>()] = added["id"]!.GetValue<int>();
        var pattern = FindSplitRegex(root["pre_tokenizer"]) ?? Gpt2Pattern;
        return Create(vocab, merges, specials, pattern);
    }

    static string? FindSplitRegex(JsonNode? node)
    {
        if (node is not JsonObject o) return null;
        if (o["type"]?.GetValue<string>() == "Split" && o["pattern"]?["Regex"] is JsonValue re) return re.GetValue<string>();
        foreach (var child in o["pretokenizers"] as JsonArray ?? [])
            if (FindSplitRegex(child) is string found) return found;
        return null;
    }

    static Dictionary<string, int> AddedTokensFromConfig(string directory)
    {
        var result = new Dictionary<string, int>();
        var path = Path.Combine(directory, "tokenizer_config.json");
        if (!File.Exists(path)) return result;
        if (JsonNode.Parse(File.ReadAllText(path))?["added_tokens_decoder"] is JsonObject decoder)
            foreach (var (id, token) in decoder)
                result[token!["content"]!.GetValue<string>()] = int.Parse(id);
        return result;
    }

    public int[] Encode(string text) => bpe.EncodeToIds(text).ToArray();

    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        if (!skipSpecialTokens) return bpe.Decode(ids, considerSpecialTokens: true);
        return bpe.Decode(ids.Where(id => !specialById.ContainsKey(id)), considerSpecialTokens: false);
    }

    public int? TokenToId(string token)
    {
        if (special.TryGetValue(token, out var id)) return id;
        return bpe.Vocabulary.TryGetValue(token, out id) ? id : null;
    }

    public bool IsSpecial(int id) => specialById.ContainsKey(id);
}
