using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Orleans.Rft.Engine.Tokenization;

/// <summary>
/// Reads the parts of a Hugging Face <c>tokenizer.json</c> (format of tokenizers ≥ 0.13): the BPE
/// model, normalizer, pre-tokenizer, post-processor, decoder and added tokens. Anything it does not
/// implement is refused with the field's path, never silently approximated.
/// </summary>
public static class TokenizerJsonReader
{
    const RegexOptions Options = RegexOptions.Compiled | RegexOptions.CultureInvariant;

    public sealed record Parts(BpeModel Model, IReadOnlyList<AddedToken> AddedTokens, Normalizer? Normalizer,
        PreTokenizer? PreTokenizer, PostProcessor PostProcessor, TokenDecoder Decoder);

    public static Parts Read(JsonObject root, string source)
    {
        var model = root["model"] as JsonObject ?? throw Bad(source, "model", "is missing");
        var type = Str(model, "type") ?? "BPE";
        if (type != "BPE")
            throw new NotSupportedException($"{source}: model.type '{type}' is not supported: only BPE models (byte-level or SentencePiece-style with byte fallback) are.");
        if (model["dropout"] is JsonValue dv && dv.GetValue<double>() is var d && d > 0)
            throw Bad(source, "model.dropout", $"is {d}: BPE dropout is for training; set it to null for inference");
        var vocabNode = model["vocab"] as JsonObject ?? throw Bad(source, "model.vocab", "is missing or not an object");
        var vocab = new Dictionary<string, int>(vocabNode.Count, StringComparer.Ordinal);
        foreach (var (token, id) in vocabNode) vocab[token] = id!.GetValue<int>();
        var merges = new List<(string, string)>();
        int rank = 0;
        foreach (var m in model["merges"] as JsonArray ?? [])
        {
            if (m is JsonArray pair && pair.Count == 2) merges.Add((pair[0]!.GetValue<string>(), pair[1]!.GetValue<string>()));
            else if (m is JsonValue v && v.GetValue<string>() is var line && line.IndexOf(' ') is var space and > 0)
                merges.Add((line[..space], line[(space + 1)..]));
            else throw Bad(source, $"model.merges[{rank}]", "is neither \"a b\" nor [\"a\", \"b\"]");
            rank++;
        }
        var bpe = new BpeModel(vocab, merges, Str(model, "unk_token"), Bool(model, "byte_fallback", false), Bool(model, "fuse_unk", false),
            Bool(model, "ignore_merges", false), Str(model, "continuing_subword_prefix"), Str(model, "end_of_word_suffix"), source);

        var added = new List<AddedToken>();
        int index = 0;
        foreach (var a in root["added_tokens"] as JsonArray ?? [])
        {
            if (a is not JsonObject o || o["id"] is null || Str(o, "content") is not string content)
                throw Bad(source, $"added_tokens[{index}]", "needs 'id' and 'content'");
            added.Add(new AddedToken(o["id"]!.GetValue<int>(), content, Bool(o, "special", false), Bool(o, "lstrip", false),
                Bool(o, "rstrip", false), Bool(o, "single_word", false), Bool(o, "normalized", !Bool(o, "special", false))));
            index++;
        }
        var normalizer = ReadNormalizer(root["normalizer"], source, "normalizer");
        var pre = ReadPreTokenizer(root["pre_tokenizer"], source, "pre_tokenizer");
        var post = ReadPostProcessor(root["post_processor"], source, "post_processor", bpe, added);
        var decoder = ReadDecoder(root["decoder"], source, "decoder") ?? new TokenDecoder.Join();
        return new Parts(bpe, added, normalizer, pre, post, decoder);
    }

    static Normalizer? ReadNormalizer(JsonNode? node, string source, string path)
    {
        if (node is null) return null;
        var o = node as JsonObject ?? throw Bad(source, path, "is not an object");
        return Str(o, "type") switch
        {
            "NFC" => new Normalizer.Unicode(NormalizationForm.FormC),
            "NFD" => new Normalizer.Unicode(NormalizationForm.FormD),
            "NFKC" => new Normalizer.Unicode(NormalizationForm.FormKC),
            "NFKD" => new Normalizer.Unicode(NormalizationForm.FormKD),
            "Lowercase" => new Normalizer.Lowercase(),
            "StripAccents" => new Normalizer.StripAccents(),
            "Strip" => new Normalizer.Strip(Bool(o, "strip_left", true), Bool(o, "strip_right", true)),
            "Prepend" => new Normalizer.Prepend(Str(o, "prepend") ?? throw Bad(source, path + ".prepend", "is missing")),
            "Replace" => ReadPattern(o, source, path) is var (literal, regex)
                ? new Normalizer.Replace(literal, regex, Str(o, "content") ?? throw Bad(source, path + ".content", "is missing")) : null,
            "Sequence" => new Normalizer.Sequence(Items(o, "normalizers", source, path)
                .Select((n, i) => ReadNormalizer(n, source, $"{path}.normalizers[{i}]")!).ToList()),
            var t => throw Unsupported(source, path, t, "NFC, NFD, NFKC, NFKD, Lowercase, Strip, StripAccents, Prepend, Replace, Sequence"),
        };
    }

    static PreTokenizer? ReadPreTokenizer(JsonNode? node, string source, string path)
    {
        if (node is null) return null;
        var o = node as JsonObject ?? throw Bad(source, path, "is not an object");
        return Str(o, "type") switch
        {
            "Split" => ReadPattern(o, source, path) is var (literal, regex)
                ? new PreTokenizer.Split(regex ?? new Regex(Regex.Escape(literal!), Options), ReadBehavior(o, source, path), Bool(o, "invert", false)) : null,
            "ByteLevel" => new PreTokenizer.ByteLevel(Bool(o, "add_prefix_space", true), Bool(o, "use_regex", true)),
            "Metaspace" => new PreTokenizer.Metaspace(Replacement(o, source, path), PrependScheme(o), Bool(o, "split", true)),
            "Digits" => new PreTokenizer.Digits(Bool(o, "individual_digits", false)),
            "Sequence" => new PreTokenizer.Sequence(Items(o, "pretokenizers", source, path)
                .Select((n, i) => ReadPreTokenizer(n, source, $"{path}.pretokenizers[{i}]")!).ToList()),
            var t => throw Unsupported(source, path, t, "Split, ByteLevel, Metaspace, Digits, Sequence"),
        };
    }

    static PostProcessor ReadPostProcessor(JsonNode? node, string source, string path, BpeModel model, List<AddedToken> added)
    {
        if (node is null) return new PostProcessor.None();
        var o = node as JsonObject ?? throw Bad(source, path, "is not an object");
        switch (Str(o, "type"))
        {
            case "ByteLevel":
                return new PostProcessor.None();
            case "TemplateProcessing":
                var specials = new Dictionary<string, int[]>();
                foreach (var (name, value) in o["special_tokens"] as JsonObject ?? [])
                    specials[name] = (value?["ids"] as JsonArray ?? throw Bad(source, $"{path}.special_tokens.{name}.ids", "is missing"))
                        .Select(x => x!.GetValue<int>()).ToArray();
                return new PostProcessor.Template(ReadTemplate(o, "single", specials, source, path), ReadTemplate(o, "pair", specials, source, path));
            case "BertProcessing":
            case "RobertaProcessing":
                int Id(string field) => (o[field] as JsonArray)?[1]?.GetValue<int>() ?? throw Bad(source, $"{path}.{field}", "needs [token, id]");
                return new PostProcessor.ClsSep(Id("cls"), Id("sep"), Str(o, "type") == "RobertaProcessing");
            case "Sequence":
                return new PostProcessor.Sequence(Items(o, "processors", source, path)
                    .Select((n, i) => ReadPostProcessor(n, source, $"{path}.processors[{i}]", model, added)).ToList());
            case var t:
                throw Unsupported(source, path, t, "TemplateProcessing, ByteLevel, BertProcessing, RobertaProcessing, Sequence");
        }
    }

    static List<PostProcessor.Piece> ReadTemplate(JsonObject o, string field, Dictionary<string, int[]> specials, string source, string path)
    {
        var result = new List<PostProcessor.Piece>();
        int i = 0;
        foreach (var item in o[field] as JsonArray ?? [])
        {
            var at = $"{path}.{field}[{i++}]";
            if (item?["SpecialToken"]?["id"]?.GetValue<string>() is string name)
                result.Add(new(specials.TryGetValue(name, out var ids) ? ids : throw Bad(source, at, $"names special token '{name}', which special_tokens does not define"), ' '));
            else if (item?["Sequence"]?["id"]?.GetValue<string>() is "A" or "B")
                result.Add(new(null, item["Sequence"]!["id"]!.GetValue<string>()[0]));
            else throw Bad(source, at, "is neither {\"SpecialToken\": …} nor {\"Sequence\": {\"id\": \"A\"|\"B\"}}");
        }
        return result;
    }

    static TokenDecoder? ReadDecoder(JsonNode? node, string source, string path)
    {
        if (node is null) return null;
        var o = node as JsonObject ?? throw Bad(source, path, "is not an object");
        return Str(o, "type") switch
        {
            "ByteLevel" => new TokenDecoder.ByteLevel(),
            "Metaspace" => new TokenDecoder.Metaspace(Replacement(o, source, path), PrependScheme(o) != "never"),
            "Replace" => ReadPattern(o, source, path) is (string literal, null)
                ? new TokenDecoder.Replace(literal, Str(o, "content") ?? throw Bad(source, path + ".content", "is missing"))
                : throw Bad(source, path + ".pattern", "is a Regex; the Replace decoder supports a String pattern only"),
            "ByteFallback" => new TokenDecoder.ByteFallback(),
            "Fuse" => new TokenDecoder.Fuse(),
            "Strip" => new TokenDecoder.Strip(Char(o, "content", source, path), Int(o, "start"), Int(o, "stop")),
            "Sequence" => new TokenDecoder.Sequence(Items(o, "decoders", source, path)
                .Select((n, i) => ReadDecoder(n, source, $"{path}.decoders[{i}]")!).ToList()),
            var t => throw Unsupported(source, path, t, "ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence"),
        };
    }

    /// <summary>A <c>pattern</c> field: <c>{"String": "…"}</c> (literal) or <c>{"Regex": "…"}</c>.</summary>
    static (string? Literal, Regex? Regex) ReadPattern(JsonObject o, string source, string path)
    {
        if (o["pattern"]?["String"]?.GetValue<string>() is string literal) return (literal, null);
        if (o["pattern"]?["Regex"]?.GetValue<string>() is string regex)
        {
            try { return (null, new Regex(regex, Options)); }
            catch (ArgumentException e) { throw Bad(source, path + ".pattern.Regex", $"does not compile as a .NET regex ({e.Message})"); }
        }
        throw Bad(source, path + ".pattern", "needs {\"String\": …} or {\"Regex\": …}");
    }

    static SplitBehavior ReadBehavior(JsonObject o, string source, string path) => Str(o, "behavior") switch
    {
        "Removed" => SplitBehavior.Removed,
        "Isolated" => SplitBehavior.Isolated,
        "MergedWithPrevious" => SplitBehavior.MergedWithPrevious,
        "MergedWithNext" => SplitBehavior.MergedWithNext,
        "Contiguous" => SplitBehavior.Contiguous,
        var b => throw Bad(source, path + ".behavior", $"'{b}' is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous"),
    };

    /// <summary><c>prepend_scheme</c>, or the older <c>add_prefix_space</c> it replaced (true = always).</summary>
    static string PrependScheme(JsonObject o) =>
        Str(o, "prepend_scheme") ?? (Bool(o, "add_prefix_space", true) ? "always" : "never");

    static char Replacement(JsonObject o, string source, string path) => Char(o, "replacement", source, path);

    static char Char(JsonObject o, string field, string source, string path) =>
        Str(o, field) is { Length: 1 } s ? s[0] : throw Bad(source, $"{path}.{field}", "must be a single character");

    static JsonArray Items(JsonObject o, string field, string source, string path) =>
        o[field] as JsonArray ?? throw Bad(source, $"{path}.{field}", "is missing or not a list");

    static string? Str(JsonObject o, string field) => o[field] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
    static bool Bool(JsonObject o, string field, bool fallback) => o[field] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : fallback;
    static int Int(JsonObject o, string field) => o[field] is JsonValue v && v.TryGetValue<int>(out var i) ? i : 0;

    static InvalidDataException Bad(string source, string path, string problem) => new($"{source}: field '{path}' {problem}.");

    static NotSupportedException Unsupported(string source, string path, string? type, string supported) =>
        new($"{source}: field '{path}.type' is '{type}', which this tokenizer does not implement (supported: {supported}).");
}
