namespace Orleans.Rft.Engine.Chat.ToolCalls;

/// <summary>
/// Hermes / Qwen2.5 / Qwen3: each call is <c>&lt;tool_call&gt;\n{"name": …, "arguments": {…}}\n&lt;/tool_call&gt;</c>,
/// any number of them, possibly after some text. The JSON object's extent is found by its brackets (not
/// by searching for the closing tag), so a string argument may hold <c>}</c> or even <c>&lt;/tool_call&gt;</c>.
/// A last call whose closing tag is missing (generation stopped on it, as a stop string) still counts
/// when its JSON is complete, as vLLM's <c>&lt;tool_call&gt;(.*)</c> fallback does.
/// </summary>
public sealed class HermesToolCallParser : ToolCallParser
{
    public const string OpenTag = "<tool_call>";
    public const string CloseTag = "</tool_call>";

    public override string Name => "hermes";

    protected override void FindCalls(string output, int start, Scan scan)
    {
        int i = start;
        int open;
        while ((open = output.IndexOf(OpenTag, i, StringComparison.Ordinal)) >= 0)
        {
            int j = JsonSpan.SkipWhitespace(output, open + OpenTag.Length);
            if (j == output.Length) { scan.Error(open, "the output ends right after <tool_call> (truncated)"); return; }
            if (output[j] != '{')
            {
                scan.Error(open, "<tool_call> is not followed by a JSON object {\"name\": …, \"arguments\": {…}}");
                i = NextClose(output, j);
                continue;
            }
            int end = JsonSpan.End(output, j);
            if (end < 0) { scan.Error(open, "the JSON object is never closed (truncated output)"); return; }
            var node = JsonSpan.TryParse(output, j, end, out var problem);
            if (node is null) { scan.Error(open, problem!); i = NextClose(output, end); continue; }
            if (!TryReadCall(node, out var name, out var arguments, out problem)) { scan.Error(open, "the JSON object " + problem); i = NextClose(output, end); continue; }
            int k = JsonSpan.SkipWhitespace(output, end);
            if (output.AsSpan(k).StartsWith(CloseTag, StringComparison.Ordinal)) k += CloseTag.Length;
            else if (k < output.Length)
            {
                scan.Error(open, $"unexpected text at character {k} between the JSON object and </tool_call>");
                i = NextClose(output, k);
                continue;
            }
            scan.Call(name, arguments);
            scan.Consume(open, k);
            i = k;
        }
    }

    /// <summary>Where to resume after a bad call: past its closing tag, or the end of the output.</summary>
    static int NextClose(string output, int from)
    {
        int close = output.IndexOf(CloseTag, from, StringComparison.Ordinal);
        return close < 0 ? output.Length : close + CloseTag.Length;
    }
}
