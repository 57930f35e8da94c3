using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Engine.Chat.ToolCalls;

/// <summary>
/// Finds where a JSON value embedded in model output ends, counting brackets outside strings only, so
/// that a <c>}</c> or a closing tag inside a string argument never ends the call early.
/// </summary>
static class JsonSpan
{
    /// <summary>The index just past the object or array that opens at <paramref name="start"/>, or -1 when the text ends first (truncated output).</summary>
    public static int End(string text, int start)
    {
        int depth = 0;
        bool inString = false;
        for (int i = start; i < text.Length; i++)
        {
            char c = text[i];
            if (inString)
            {
                if (c == '\\') i++;
                else if (c == '"') inString = false;
                continue;
            }
            switch (c)
            {
                case '"': inString = true; break;
                case '{' or '[': depth++; break;
                case '}' or ']':
                    if (--depth == 0) return i + 1;
                    break;
            }
        }
        return -1;
    }

    public static int SkipWhitespace(string text, int i)
    {
        while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
        return i;
    }

    /// <summary>Parses <c>text[start..end)</c>; null and a reason (with the character offset in the output) when it is not JSON.</summary>
    public static JsonNode? TryParse(string text, int start, int end, out string? problem)
    {
        try
        {
            var node = JsonNode.Parse(text.AsSpan(start, end - start).ToString());
            Touch(node);
            problem = null;
            return node;
        }
        catch (JsonException e)
        {
            var at = e.LineNumber is long line && e.BytePositionInLine is long column ? $" near character {Offset(text, start, line, column)}" : "";
            problem = $"not valid JSON{at}: {ShortMessage(e.Message)}";
            return null;
        }
        catch (ArgumentException e)
        {
            problem = $"not valid JSON: {e.Message}";
            return null;
        }
    }

    /// <summary>JsonObject checks duplicate keys only when first read: read every object now so a bad key is reported here, not later.</summary>
    static void Touch(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o: foreach (var (_, v) in o) Touch(v); break;
            case JsonArray a: foreach (var v in a) Touch(v); break;
        }
    }

    /// <summary>The character offset in the output of a (line, byte-in-line) position inside the slice that starts at <paramref name="start"/> (bytes counted as characters: exact for ASCII).</summary>
    static long Offset(string text, int start, long line, long column)
    {
        int i = start;
        for (long l = 0; l < line; l++)
        {
            int next = text.IndexOf('\n', i);
            if (next < 0) break;
            i = next + 1;
        }
        return i + column;
    }

    /// <summary>System.Text.Json's message without its " LineNumber: … | BytePositionInLine: …" suffix (positions are given separately).</summary>
    public static string ShortMessage(string message)
    {
        int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut < 0 ? message : message[..cut]).TrimEnd();
    }
}
