using System.Text.Json.Nodes;

namespace Orleans.Rft.Engine.Tokenization;

/// <summary>
/// A Hugging Face tokenizer as <c>tokenizers</c> (Rust) encodes and decodes with it: added tokens
/// first, then normalizer → pre-tokenizer → BPE per word, and the post-processor's special tokens
/// when asked. Loads <c>tokenizer.json</c> (with <c>tokenizer_config.json</c> beside it) or
/// <c>vocab.json</c> + <c>merges.txt</c>. Our own implementation rather than Microsoft.ML.Tokenizers:
/// that library has no tokenizer.json loader, no metaspace/byte-fallback BPE, no
/// <c>ignore_merges</c>, and its added-token and decoding rules differ from tokenizers' in ways that
/// change ids; the merge loop here is tokenizers' own (BpeModel).
/// </summary>
public sealed class TextTokenizer
{
    /// <summary>GPT-2's pre-tokenizer pattern, used when no tokenizer.json says otherwise.</summary>
    public const string Gpt2Pattern = PreTokenizer.Gpt2Pattern;

    readonly BpeModel model;
    readonly AddedVocabulary added;
    readonly Normalizer? normalizer;
    readonly PreTokenizer? preTokenizer;
    readonly PostProcessor postProcessor;
    readonly TokenDecoder decoder;
    readonly bool cleanUpSpaces;
    readonly Dictionary<string, int> special;

    TextTokenizer(BpeModel model, IEnumerable<AddedToken> addedTokens, Normalizer? normalizer, PreTokenizer? preTokenizer,
        PostProcessor postProcessor, TokenDecoder decoder, bool cleanUpSpaces = false, int? bos = null, int? eos = null)
    {
        this.model = model;
        added = new AddedVocabulary(addedTokens, normalizer);
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.postProcessor = postProcessor;
        this.decoder = decoder;
        this.cleanUpSpaces = cleanUpSpaces;
        special = added.Tokens.Where(t => t.Special).ToDictionary(t => t.Content, t => t.Id);
        VocabSize = Math.Max(model.MaxId, added.Tokens.Count == 0 ? -1 : added.Tokens.Max(t => t.Id)) + 1;
        BosTokenId = bos;
        EosTokenId = eos;
    }

    /// <summary>One more than the largest id of the model's vocabulary and the added tokens.</summary>
    public int VocabSize { get; }
    /// <summary>Added tokens marked <c>special</c> (what <c>skip_special_tokens</c> drops), by content.</summary>
    public IReadOnlyDictionary<string, int> SpecialTokens => special;
    public IReadOnlyCollection<AddedToken> AddedTokens => added.Tokens;
    /// <summary><c>bos_token</c> / <c>eos_token</c> of tokenizer_config.json, when it names them.</summary>
    public int? BosTokenId { get; }
    public int? EosTokenId { get; }

    /// <summary>Byte-level BPE with GPT-2-style splitting by <paramref name="pattern"/>; <paramref name="specialTokens"/> are special added tokens.</summary>
    public static TextTokenizer Create(IReadOnlyDictionary<string, int> vocab, IEnumerable<string> merges,
        IReadOnlyDictionary<string, int> specialTokens, string pattern = Gpt2Pattern)
    {
        var pairs = merges.Select(m => m.IndexOf(' ') is var s and > 0 ? (m[..s], m[(s + 1)..]) : throw new InvalidDataException($"merge '{m}' is not \"a b\".")).ToList();
        var specials = specialTokens.Select(kv => new AddedToken(kv.Value, kv.Key, Special: true)).ToList();
        PreTokenizer pre = pattern == Gpt2Pattern
            ? new PreTokenizer.ByteLevel(AddPrefixSpace: false, UseRegex: true)
            : new PreTokenizer.Sequence([new PreTokenizer.Split(new(pattern, System.Text.RegularExpressions.RegexOptions.Compiled), SplitBehavior.Isolated, false),
                new PreTokenizer.ByteLevel(false, false)]);
        var bpe = new BpeModel(vocab.Where(kv => !specialTokens.ContainsKey(kv.Key)).ToDictionary(), pairs);
        return new TextTokenizer(bpe, specials, null, pre, new PostProcessor.None(), new TokenDecoder.ByteLevel());
    }

    /// <summary>Loads from a model folder: tokenizer.json (+ tokenizer_config.json), else vocab.json + merges.txt.</summary>
    public static TextTokenizer Load(string directory)
    {
        var configPath = Path.Combine(directory, "tokenizer_config.json");
        JsonObject? config = File.Exists(configPath) ? ParseObject(File.ReadAllText(configPath), configPath) : null;
        var json = Path.Combine(directory, "tokenizer.json");
        if (File.Exists(json)) return FromTokenizerJson(File.ReadAllText(json), json, config, configPath);
        var vocabPath = Path.Combine(directory, "vocab.json");
        var mergesPath = Path.Combine(directory, "merges.txt");
        if (!File.Exists(vocabPath) || !File.Exists(mergesPath))
            throw new FileNotFoundException($"{directory}: no tokenizer found: expected tokenizer.json, or vocab.json and merges.txt.");
        var vocab = ParseObject(File.ReadAllText(vocabPath), vocabPath).ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<int>());
        var merges = File.ReadLines(mergesPath).Where(l => l.Length > 0 && !l.StartsWith("#version")).ToList();
        var specials = new Dictionary<string, int>();
        var basic = Create(vocab, merges, specials);
        return WithConfig(basic.model, ConfigAddedTokens(config, []), null, new PreTokenizer.ByteLevel(false, true),
            new PostProcessor.None(), new TokenDecoder.ByteLevel(), config, configPath);
    }

    /// <summary>Parses tokenizer.json text; <paramref name="config"/> is tokenizer_config.json's object when there is one.</summary>
    public static TextTokenizer FromTokenizerJson(string text, string source, JsonObject? config = null, string configSource = "tokenizer_config.json")
    {
        var parts = TokenizerJsonReader.Read(ParseObject(text, source), source);
        return WithConfig(parts.Model, ConfigAddedTokens(config, parts.AddedTokens), parts.Normalizer, parts.PreTokenizer,
            parts.PostProcessor, parts.Decoder, config, configSource);
    }

    /// <summary>
    /// What transformers takes from tokenizer_config.json: extra <c>added_tokens_decoder</c> entries,
    /// <c>bos_token</c>/<c>eos_token</c>, <c>clean_up_tokenization_spaces</c> (decode), and explicit
    /// <c>add_bos_token</c>/<c>add_eos_token</c>, which rebuild the post-processor's template as
    /// transformers' <c>update_post_processor</c> does: <c>[bos] $A [eos]</c>, pair
    /// <c>[bos] $A [eos] [bos] $B [eos]</c>. The classes that have that method (Llama, CodeLlama, Gemma,
    /// Cohere, GPTNeoX) always rebuild it, with their defaults for flags the config leaves out; for other
    /// classes an explicit flag rebuilds a template post-processor, and a true flag any post-processor.
    /// </summary>
    static TextTokenizer WithConfig(BpeModel model, List<AddedToken> addedTokens, Normalizer? normalizer, PreTokenizer? pre,
        PostProcessor post, TokenDecoder decoder, JsonObject? config, string configSource)
    {
        int? Resolve(string field)
        {
            var content = config?[field] switch { JsonValue v when v.TryGetValue<string>(out var s) => s, JsonObject o => o["content"]?.GetValue<string>(), _ => null };
            if (content is null) return null;
            return addedTokens.FirstOrDefault(t => t.Content == content)?.Id ?? model.TokenToId(content)
                ?? throw new InvalidDataException($"{configSource}: field '{field}' is '{content}', which is neither an added token nor in the vocabulary.");
        }
        int? bos = Resolve("bos_token"), eos = Resolve("eos_token");
        bool? addBos = config?["add_bos_token"] is JsonValue ab && ab.TryGetValue<bool>(out var b1) ? b1 : null;
        bool? addEos = config?["add_eos_token"] is JsonValue ae && ae.TryGetValue<bool>(out var b2) ? b2 : null;
        // Llama/Gemma/CodeLlama/Cohere's fast classes rebuild the template always, with class
        // defaults for missing flags (add_bos_token=True, add_eos_token=False); GPTNeoX's with False, False.
        var tokenizerClass = config?["tokenizer_class"] is JsonValue tc && tc.TryGetValue<string>(out var cls) ? cls.Replace("Fast", "") : null;
        (bool Bos, bool Eos)? classDefaults = tokenizerClass switch
        {
            "LlamaTokenizer" or "CodeLlamaTokenizer" or "GemmaTokenizer" or "CohereTokenizer" => (true, false),
            "GPTNeoXTokenizer" => (false, false),
            _ => null,
        };
        if (classDefaults is var (defaultBos, defaultEos)) { addBos ??= defaultBos; addEos ??= defaultEos; }
        bool templated = post is PostProcessor.Template or PostProcessor.Sequence;
        if (classDefaults is not null || ((addBos is not null || addEos is not null) && (templated || addBos == true || addEos == true)))
        {
            if (addBos == true && bos is null) throw new InvalidDataException($"{configSource}: add_bos_token is true but bos_token is not set; set bos_token or add_bos_token: false.");
            if (addEos == true && eos is null) throw new InvalidDataException($"{configSource}: add_eos_token is true but eos_token is not set; set eos_token or add_eos_token: false.");
            var single = new List<PostProcessor.Piece>();
            if (addBos == true) single.Add(new([bos!.Value], ' '));
            single.Add(new(null, 'A'));
            if (addEos == true) single.Add(new([eos!.Value], ' '));
            var pair = new List<PostProcessor.Piece>(single);
            if (addBos == true) pair.Add(new([bos!.Value], ' '));
            pair.Add(new(null, 'B'));
            if (addEos == true) pair.Add(new([eos!.Value], ' '));
            post = new PostProcessor.Template(single, pair);
        }
        bool cleanUp = config?["clean_up_tokenization_spaces"] is JsonValue cu && cu.TryGetValue<bool>(out var c) && c;
        return new TextTokenizer(model, addedTokens, normalizer, pre, post, decoder, cleanUp, bos, eos);
    }

    /// <summary>tokenizer.json's added tokens, plus tokenizer_config.json's <c>added_tokens_decoder</c> entries it lacks.</summary>
    static List<AddedToken> ConfigAddedTokens(JsonObject? config, IReadOnlyList<AddedToken> fromJson)
    {
        var result = fromJson.ToList();
        var ids = result.Select(t => t.Id).ToHashSet();
        if (config?["added_tokens_decoder"] is JsonObject decoder)
            foreach (var (id, token) in decoder)
                if (int.TryParse(id, out var i) && ids.Add(i) && token?["content"]?.GetValue<string>() is string content)
                {
                    bool isSpecial = token["special"]?.GetValue<bool>() ?? false;
                    result.Add(new AddedToken(i, content, isSpecial, token["lstrip"]?.GetValue<bool>() ?? false, token["rstrip"]?.GetValue<bool>() ?? false,
                        token["single_word"]?.GetValue<bool>() ?? false, token["normalized"]?.GetValue<bool>() ?? !isSpecial));
                }
        return result;
    }

    static JsonObject ParseObject(string text, string source)
    {
        try { return JsonNode.Parse(text) as JsonObject ?? throw new InvalidDataException($"{source}: expected a JSON object."); }
        catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{source}: not valid JSON ({e.Message})."); }
    }

    /// <summary>
    /// The ids of <paramref name="text"/>. Special tokens written in the text are matched as tokens;
    /// the post-processor's tokens (BOS…) are added only with <paramref name="addSpecialTokens"/>
    /// (off by default, as chat templates render BOS themselves and transformers'
    /// <c>apply_chat_template</c> tokenizes with <c>add_special_tokens=False</c>).
    /// </summary>
    public int[] Encode(string text, bool addSpecialTokens = false)
    {
        var ids = EncodeSequence(text);
        return (addSpecialTokens ? postProcessor.Process(ids, null) : ids).ToArray();
    }

    /// <summary>A pair of sequences with the post-processor's pair template (<c>add_special_tokens=True</c>).</summary>
    public int[] EncodePair(string first, string second) => postProcessor.Process(EncodeSequence(first), EncodeSequence(second)).ToArray();

    List<int> EncodeSequence(string text)
    {
        var parts = new List<(int AddedId, TextPiece Piece)>();
        added.Extract(text, normalizer, parts);
        var ids = new List<int>(text.Length / 3 + 4);
        var pieces = new List<TextPiece>(1);
        var words = new List<TextPiece>();
        foreach (var (id, piece) in parts)
        {
            if (id >= 0) { ids.Add(id); continue; }
            if (piece.Text.Length == 0) continue;
            if (preTokenizer is null) { model.Tokenize(piece.Text, ids); continue; }
            pieces.Clear();
            pieces.Add(piece);
            words.Clear();
            preTokenizer.Apply(pieces, words);
            foreach (var word in words) model.Tokenize(word.Text, ids);
        }
        return ids;
    }

    /// <summary>
    /// Text of <paramref name="ids"/>: tokens through the decoder (tokenizers' <c>decode</c>); ids
    /// outside the vocabulary are skipped, as tokenizers does; <c>clean_up_tokenization_spaces</c>
    /// applied when tokenizer_config.json asks for it (transformers).
    /// </summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        var text = DecodeTokens(ids, skipSpecialTokens);
        return cleanUpSpaces ? CleanUpTokenization(text) : text;
    }

    /// <summary>
    /// tokenizers' own decode, without transformers' clean-up: what streaming builds on (the clean-up
    /// rewrites text already emitted, " ." → ".", so a stream could not stay a prefix of it).
    /// </summary>
    internal string DecodeTokens(IEnumerable<int> ids, bool skipSpecialTokens)
    {
        var tokens = new List<string>();
        foreach (var id in ids)
        {
            if (added.ById(id) is AddedToken t)
            {
                if (!(skipSpecialTokens && t.Special)) tokens.Add(t.Content);
            }
            else if (model.IdToToken(id) is string token) tokens.Add(token);
        }
        return decoder.Decode(tokens);
    }

    /// <summary>transformers' <c>clean_up_tokenization</c>: spaces before punctuation and English contractions removed.</summary>
    static string CleanUpTokenization(string text) => text.Replace(" .", ".").Replace(" ?", "?").Replace(" !", "!").Replace(" ,", ",")
        .Replace(" ' ", "'").Replace(" n't", "n't").Replace(" 'm", "'m").Replace(" 's", "'s").Replace(" 've", "'ve").Replace(" 're", "'re");

    /// <summary>An incremental decoder for streamed generation (see <see cref="StreamingDecoder"/>).</summary>
    public StreamingDecoder CreateStreamingDecoder(bool skipSpecialTokens = false) => new(this, skipSpecialTokens);

    public int? TokenToId(string token) => added.ByContent(token)?.Id ?? model.TokenToId(token);

    public string? IdToToken(int id) => added.ById(id)?.Content ?? model.IdToToken(id);

    /// <summary>Whether the id is an added token marked special (dropped by <c>skipSpecialTokens</c>).</summary>
    public bool IsSpecial(int id) => added.ById(id)?.Special == true;
}
