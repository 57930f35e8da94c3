using System.Text.Json.Nodes;

namespace Orleans.Rft.Engine.Chat.ToolCalls;

/// <summary>
/// Mistral: <c>[TOOL_CALLS]</c> then either a JSON list (v0.3 tokenizers:
/// <c>[TOOL_CALLS] [{"name": …, "arguments": {…}}, …]</c>) or, from tokenizer v11 on, one
/// <c>[TOOL_CALLS]name[ARGS]{…}</c> per call (with <c>[CALL_ID]id</c> before <c>[ARGS]</c> in some
/// versions). Text before the first marker is content. A list is taken whole or not at all: one bad
/// element makes the whole list content, reported. Ids are 9 letters and digits, because Mistral's
/// templates reject any other id when the call is rendered back (vLLM generates them the same way).
/// </summary>
public sealed class MistralToolCallParser : ToolCallParser
{
    public const string Marker = "[TOOL_CALLS]";
    public const string ArgsMarker = "[ARGS]";
    public const string CallIdMarker = "[CALL_ID]";

    public override string Name => "mistral";

    protected override string NewId() => RandomAlphanumeric(9);

    protected override void FindCalls(string output, int start, Scan scan)
    {
        int i = start;
        int marker;
        while ((marker = output.IndexOf(Marker, i, StringComparison.Ordinal)) >= 0)
        {
            int j = JsonSpan.SkipWhitespace(output, marker + Marker.Length);
            if (j == output.Length) { scan.Error(marker, "the output ends right after [TOOL_CALLS] (truncated)"); return; }
            i = output[j] is '[' or '{' ? ReadJson(output, marker, j, scan) : ReadNamed(output, marker, j, scan);
            if (i < 0) return;
        }
    }

    /// <summary>v0.3: a JSON list of calls (or a single object). Returns where to go on, or -1 when the output is truncated.</summary>
    static int ReadJson(string output, int marker, int j, Scan scan)
    {
        int end = JsonSpan.End(output, j);
        if (end < 0) { scan.Error(marker, "the JSON after [TOOL_CALLS] is never closed (truncated output)"); return -1; }
        var node = JsonSpan.TryParse(output, j, end, out var problem);
        if (node is null) { scan.Error(marker, problem!); return end; }
        var items = node is JsonArray a ? a.ToList() : [node];
        var calls = new List<(string Name, JsonObject Arguments, string? Id)>();
        for (int k = 0; k < items.Count; k++)
        {
            if (!TryReadCall(items[k], out var name, out var arguments, out problem))
            {
                scan.Error(marker, node is JsonArray ? $"element {k} of the list {problem}" : "the JSON object " + problem);
                return end;
            }
            calls.Add((name, arguments, items[k]!["id"] is JsonValue id && id.TryGetValue<string>(out var s) && s.Length > 0 ? s : null));
        }
        foreach (var (name, arguments, id) in calls) scan.Call(name, arguments, id);
        scan.Consume(marker, end);
        return end;
    }

    /// <summary>v11+: <c>name[ARGS]{…}</c> or <c>name[CALL_ID]id[ARGS]{…}</c>.</summary>
    static int ReadNamed(string output, int marker, int j, Scan scan)
    {
        int args = output.IndexOf(ArgsMarker, j, StringComparison.Ordinal);
        int next = output.IndexOf(Marker, j, StringComparison.Ordinal);
        if (args < 0 || (next >= 0 && next < args))
        {
            scan.Error(marker, args < 0 && next < 0 ? "no [ARGS] after the function name (truncated output?)" : "no [ARGS] before the next [TOOL_CALLS]");
            return next < 0 ? -1 : next;
        }
        var head = output[j..args];
        string? id = null;
        int idMarker = head.IndexOf(CallIdMarker, StringComparison.Ordinal);
        if (idMarker >= 0)
        {
            id = head[(idMarker + CallIdMarker.Length)..].Trim();
            head = head[..idMarker];
        }
        var name = head.Trim();
        if (name.Length == 0 || name.Any(c => char.IsWhiteSpace(c) || c is '[' or ']' or '{' or '}'))
        {
            scan.Error(marker, $"'{name}' before [ARGS] is not a function name");
            return args + ArgsMarker.Length;
        }
        int o = JsonSpan.SkipWhitespace(output, args + ArgsMarker.Length);
        if (o == output.Length) { scan.Error(marker, "the output ends right after [ARGS] (truncated)"); return -1; }
        if (output[o] != '{') { scan.Error(marker, $"[ARGS] is not followed by a JSON object (character {o})"); return o; }
        int end = JsonSpan.End(output, o);
        if (end < 0) { scan.Error(marker, "the arguments' JSON object is never closed (truncated output)"); return -1; }
        var node = JsonSpan.TryParse(output, o, end, out var problem);
        if (node is not JsonObject arguments) { scan.Error(marker, "the arguments are " + (problem ?? "not a JSON object")); return end; }
        scan.Call(name, arguments, string.IsNullOrEmpty(id) ? null : id);
        scan.Consume(marker, end);
        return end;
    }
}
