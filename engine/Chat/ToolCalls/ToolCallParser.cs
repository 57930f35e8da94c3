using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Engine.Chat.ToolCalls;

/// <summary>
/// Turns a model's raw output into content, reasoning and OpenAI tool calls, for one family's
/// tool-call syntax (the one its chat template teaches). The reasoning is split off first
/// (<see cref="ThinkBlocks"/>), so calls a model only thinks about are not executed. Never throws on
/// model output: a malformed call is reported in <see cref="ToolCallParseResult.Errors"/> and its text
/// kept as content, so the caller can show it, score it or ask again.
/// </summary>
public abstract class ToolCallParser
{
    /// <summary>The name used to configure it (<c>hermes</c>, <c>llama3_json</c>, <c>mistral</c>, <c>pythonic</c>), as vLLM names them.</summary>
    public abstract string Name { get; }

    public ToolCallParseResult Parse(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var (reasoning, start) = ThinkBlocks.Split(output);
        var scan = new Scan(output, NewId);
        FindCalls(output, start, scan);
        return new ToolCallParseResult(scan.Content(start), reasoning, scan.Calls, scan.Errors);
    }

    /// <summary>Finds the calls in <c>output[start..]</c>: records each with <see cref="Scan.Call"/>, the text it used with <see cref="Scan.Consume"/>, and what went wrong with <see cref="Scan.Error"/>.</summary>
    protected abstract void FindCalls(string output, int start, Scan scan);

    /// <summary>OpenAI-style <c>call_</c> + 24 random letters and digits.</summary>
    protected virtual string NewId() => "call_" + RandomAlphanumeric(24);

    protected static string RandomAlphanumeric(int length) =>
        RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", length);

    /// <summary>
    /// Reads <c>{"name": …, "arguments"|"parameters": …}</c>. The arguments may be an object or, as
    /// OpenAI writes them, a string holding one; <paramref name="problem"/> says what is wrong otherwise.
    /// </summary>
    protected static bool TryReadCall(JsonNode? node, out string name, out JsonObject arguments, out string? problem)
    {
        name = "";
        arguments = new JsonObject();
        if (node is not JsonObject call) { problem = "is not a JSON object"; return false; }
        if (call["name"] is not JsonValue n || !n.TryGetValue<string>(out var s) || s.Length == 0) { problem = "has no \"name\" string"; return false; }
        name = s;
        var args = call.ContainsKey("arguments") ? call["arguments"] : call.ContainsKey("parameters") ? call["parameters"] : null;
        switch (args)
        {
            case JsonObject o:
                arguments = (JsonObject)o.DeepClone();
                problem = null;
                return true;
            case JsonValue v when v.TryGetValue<string>(out var text):
                var parsed = JsonSpan.TryParse(text, 0, text.Length, out var why);
                if (parsed is JsonObject po) { arguments = po; problem = null; return true; }
                problem = $"has \"arguments\" as a string that is not a JSON object ({why ?? "got " + parsed?.GetValueKind()})";
                return false;
            case null when !call.ContainsKey("arguments") && !call.ContainsKey("parameters"):
                problem = "has no \"arguments\" (or \"parameters\") object";
                return false;
            default:
                problem = $"has \"arguments\" that are not a JSON object (got {args?.GetValueKind().ToString() ?? "null"})";
                return false;
        }
    }

    /// <summary>What a parser has found so far in one output.</summary>
    protected sealed class Scan(string output, Func<string> newId)
    {
        readonly List<(int Start, int End)> consumed = [];

        public List<ParsedToolCall> Calls { get; } = [];
        public List<string> Errors { get; } = [];

        public void Call(string name, JsonObject arguments, string? id = null) =>
            Calls.Add(new ParsedToolCall(id ?? newId(), new ToolCallFunction(name, PythonJson.Dumps(arguments))));

        /// <summary>Marks <c>output[start..end)</c> as part of a call: it is not content.</summary>
        public void Consume(int start, int end) => consumed.Add((start, end));

        public void Error(int at, string what) => Errors.Add($"tool call at character {at}: {what}; its text is kept as content.");

        /// <summary>
        /// The text outside the calls. With calls, surrounding whitespace is dropped and nothing left
        /// means null (OpenAI's content of a call-only turn); without, the answer is returned as written.
        /// </summary>
        public string? Content(int start)
        {
            var sb = new StringBuilder();
            int at = start;
            foreach (var (s, e) in consumed.OrderBy(c => c.Start))
            {
                if (s > at) sb.Append(output, at, s - at);
                at = Math.Max(at, e);
            }
            if (at < output.Length) sb.Append(output, at, output.Length - at);
            var text = Calls.Count > 0 ? sb.ToString().Trim() : sb.ToString();
            return text.Length == 0 ? null : text;
        }
    }
}
