using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Engine.Data;

/// <summary>
/// Reads user JSON so that every problem shows up while it is parsed, where the caller can name the
/// file and line, rather than later when a node is first read (JsonNode fills itself lazily): a
/// duplicate key is a syntax error here (System.Text.Json would otherwise throw "An item with the same
/// key has already been added" on first access), and <see cref="InvalidText"/> finds a string that is
/// not text (a lone surrogate escape such as <c>"\ud800"</c>, which decodes to no character and
/// throws "Cannot read incomplete UTF-16" when read).
/// </summary>
public static class StrictJson
{
    static readonly JsonDocumentOptions Options = new() { AllowDuplicateProperties = false };

    /// <exception cref="JsonException">not valid JSON, a duplicate key in one object, a key that is not text, or deeper than 64 levels</exception>
    public static JsonNode? Parse(string text)
    {
        try { return JsonNode.Parse(text, documentOptions: Options); }
        catch (InvalidOperationException e) { throw KeyNotText(e); }
    }

    /// <exception cref="JsonException">not valid JSON, a duplicate key in one object, a key that is not text, or deeper than 64 levels</exception>
    public static JsonNode? Parse(ReadOnlySpan<byte> utf8)
    {
        try { return JsonNode.Parse(utf8, documentOptions: Options); }
        catch (InvalidOperationException e) { throw KeyNotText(e); }
    }

    // The duplicate-key check decodes every key while parsing, and a key with a lone surrogate escape throws there.
    static JsonException KeyNotText(InvalidOperationException e) =>
        new("a key holds a lone UTF-16 surrogate escape (such as \\ud800 without its pair), which is no character", e);

    /// <summary>
    /// The path (<c>messages[0].content</c>, <c>$</c> for the root) of the first string value or key
    /// that is not valid UTF-16 text, or null when every one is. Reads every node, so the tree is
    /// fully built afterwards. Recursion is bounded by the parser's depth limit (64).
    /// </summary>
    public static string? InvalidText(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                List<KeyValuePair<string, JsonNode?>> members;
                try { members = o.ToList(); }
                catch (InvalidOperationException) { return $"{PathOf(o)} (one of its keys)"; }
                foreach (var (_, child) in members)
                    if (InvalidText(child) is string bad) return bad;
                return null;
            case JsonArray a:
                foreach (var child in a)
                    if (InvalidText(child) is string bad) return bad;
                return null;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                try { _ = v.GetValue<string>(); return null; }
                catch (InvalidOperationException) { return PathOf(v); }
            default:
                return null;
        }
    }

    /// <summary>"$.messages[0].content" → "messages[0].content"; the root stays "$".</summary>
    static string PathOf(JsonNode node)
    {
        var path = node.GetPath();
        return path.StartsWith("$.") ? path[2..] : path;
    }
}
