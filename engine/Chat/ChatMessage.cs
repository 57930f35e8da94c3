using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Engine.Chat;

/// <summary>An assistant's function call (OpenAI format); <see cref="Arguments"/> is a JSON object.</summary>
public sealed record ToolCall(string Id, string Name, JsonObject Arguments);

/// <summary>
/// One chat turn in the OpenAI shape: role system/user/assistant/tool. <see cref="ReasoningContent"/>
/// is an assistant's thinking as vLLM and Qwen3's template name it (<c>reasoning_content</c>).
/// </summary>
public sealed record ChatMessage(string Role, string? Content, IReadOnlyList<ToolCall>? ToolCalls = null, string? ToolCallId = null, string? Name = null, string? ReasoningContent = null)
{
    public static ChatMessage System(string content) => new("system", content);
    public static ChatMessage User(string content) => new("user", content);
    public static ChatMessage Assistant(string content) => new("assistant", content);

    /// <summary>Parses an OpenAI <c>messages</c> array; errors name the index and field.</summary>
    public static List<ChatMessage> ParseList(JsonNode? node, string source)
    {
        if (node is not JsonArray array) throw new InvalidDataException($"{source}: 'messages' must be an array of {{role, content}} objects.");
        var result = new List<ChatMessage>();
        for (int i = 0; i < array.Count; i++)
        {
            if (array[i] is not JsonObject m) throw new InvalidDataException($"{source}: messages[{i}] is not an object.");
            var role = Text(m["role"], source, $"messages[{i}].role") ?? throw new InvalidDataException($"{source}: messages[{i}].role is missing.");
            if (role is not ("system" or "user" or "assistant" or "tool"))
                throw new InvalidDataException($"{source}: messages[{i}].role '{role}' must be system, user, assistant or tool.");
            string? content = m["content"] switch
            {
                null => null,
                JsonValue v => Text(v, source, $"messages[{i}].content"),
                JsonArray parts => string.Concat(parts.Select((p, k) => Text((p as JsonObject ?? throw new InvalidDataException($"{source}: messages[{i}].content[{k}] is not a {{\"type\": \"text\", \"text\": …}} object."))["text"],
                    source, $"messages[{i}].content[{k}].text") ?? "")),
                _ => throw new InvalidDataException($"{source}: messages[{i}].content must be a string (got an object); write the text as a JSON string."),
            };
            List<ToolCall>? calls = null;
            if (m["tool_calls"] is { } toolCalls)
            {
                var tc = toolCalls as JsonArray ?? throw new InvalidDataException($"{source}: messages[{i}].tool_calls must be an array of {{id, type, function: {{name, arguments}}}} objects.");
                calls = new();
                for (int j = 0; j < tc.Count; j++)
                {
                    var call = tc[j] as JsonObject ?? throw new InvalidDataException($"{source}: messages[{i}].tool_calls[{j}] is not an object; give {{id, type, function: {{name, arguments}}}}.");
                    var f = call["function"] as JsonObject ?? throw new InvalidDataException($"{source}: messages[{i}].tool_calls[{j}].function is missing or not a {{name, arguments}} object.");
                    var name = Text(f["name"], source, $"messages[{i}].tool_calls[{j}].function.name") ?? throw new InvalidDataException($"{source}: messages[{i}].tool_calls[{j}].function.name is missing.");
                    var args = f["arguments"] switch
                    {
                        JsonObject o => (JsonObject)o.DeepClone(),
                        JsonValue s => ParseArguments(Text(s, source, $"messages[{i}].tool_calls[{j}].function.arguments")!, source, $"messages[{i}].tool_calls[{j}].function.arguments") as JsonObject
                            ?? throw new InvalidDataException($"{source}: messages[{i}].tool_calls[{j}].function.arguments is not a JSON object."),
                        _ => new JsonObject(),
                    };
                    calls.Add(new ToolCall(Text(call["id"], source, $"messages[{i}].tool_calls[{j}].id") ?? $"call_{j}", name, args));
                }
            }
            if (content is null && calls is null)
                throw new InvalidDataException($"{source}: messages[{i}] needs 'content' (or 'tool_calls' for an assistant).");
            result.Add(new ChatMessage(role, content, calls, Text(m["tool_call_id"], source, $"messages[{i}].tool_call_id"), Text(m["name"], source, $"messages[{i}].name"),
                Text(m["reasoning_content"], source, $"messages[{i}].reasoning_content")));
        }
        return result;
    }

    /// <summary>A string field's value, null when absent; any other JSON kind is a data error naming the field and its kind.</summary>
    static string? Text(JsonNode? node, string source, string field) => node switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw new InvalidDataException($"{source}: {field} must be a string (got {Kind(node)}); write it as a JSON string, e.g. \"42\"."),
    };

    static string Kind(JsonNode node) => node.GetValueKind() switch
    {
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.Null => "null",
        var k => k.ToString(),
    };

    static JsonNode? ParseArguments(string text, string source, string field)
    {
        JsonNode? node;
        try { node = Data.StrictJson.Parse(text); }
        catch (JsonException) { throw new InvalidDataException($"{source}: {field} is not valid JSON (each key once); give the arguments as a JSON object or its JSON text."); }
        if (Data.StrictJson.InvalidText(node) is string bad)
            throw new InvalidDataException($"{source}: {field} holds a lone UTF-16 surrogate escape at {bad}; write the character itself, or its full surrogate pair.");
        return node;
    }
}
