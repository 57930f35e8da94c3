namespace Orleans.Rft.Engine.Chat.ToolCalls;

/// <summary>
/// Llama 3.1 / 3.2 / 3.3 JSON tool calls: the turn is <c>{"name": …, "parameters": {…}}</c>, optionally
/// after <c>&lt;|python_tag|&gt;</c>, several calls separated by <c>;</c> (as vLLM's <c>llama3_json</c>
/// reads them). Only a turn that starts with a JSON object (or has the python tag) is read as calls, and
/// a first object without <c>"name"</c> is a plain JSON answer, not a malformed call; text after the
/// calls is content. After <c>&lt;|python_tag|&gt;</c> a built-in tool's code
/// (<c>brave_search.call(query="…")</c>) is not a JSON call: it is reported and kept as content.
/// </summary>
public sealed class Llama3JsonToolCallParser : ToolCallParser
{
    public const string PythonTag = "<|python_tag|>";

    public override string Name => "llama3_json";

    protected override void FindCalls(string output, int start, Scan scan)
    {
        int tag = output.IndexOf(PythonTag, start, StringComparison.Ordinal);
        int i = JsonSpan.SkipWhitespace(output, start);
        int spanStart = i;
        if (tag >= 0) spanStart = tag;
        else if (i == output.Length || output[i] != '{') return;
        if (tag >= 0)
        {
            i = JsonSpan.SkipWhitespace(output, tag + PythonTag.Length);
            if (i == output.Length || output[i] != '{') { scan.Error(tag, "<|python_tag|> is followed by code, not a JSON call {\"name\": …, \"parameters\": {…}}"); return; }
        }
        bool first = true;
        while (i < output.Length && output[i] == '{')
        {
            int end = JsonSpan.End(output, i);
            if (end < 0) { scan.Error(i, "the JSON object is never closed (truncated output)"); return; }
            var node = JsonSpan.TryParse(output, i, end, out var problem);
            if (node is null) { scan.Error(i, problem!); return; }
            if (first && tag < 0 && node is System.Text.Json.Nodes.JsonObject o && !o.ContainsKey("name")) return; // a JSON answer
            if (!TryReadCall(node, out var name, out var arguments, out problem)) { scan.Error(i, "the JSON object " + problem); return; }
            int k = JsonSpan.SkipWhitespace(output, end);
            if (k < output.Length && output[k] == ';') k = JsonSpan.SkipWhitespace(output, k + 1);
            scan.Call(name, arguments);
            scan.Consume(first ? spanStart : i, k);
            first = false;
            i = k;
        }
    }
}
