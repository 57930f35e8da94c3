using System.Text.Json.Nodes;

namespace Orleans.Rft.Engine.Chat;

/// <summary>An assistant's function call (OpenAI format); <see cref="Arguments"/> is a JSON object.</summary>
public sealed record ToolCall(string Id, string Name, JsonObject Arguments);

/// <summary>One chat turn in the OpenAI shape: role system/user/assistant/tool.</summary>
public sealed record ChatMessage(string Role, string? Content, IReadOnlyList<ToolCall>? ToolCalls = null, string? ToolCallId = null, string? Name = null)
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
            var role = m["role"]?.GetValue<string>() ?? throw new InvalidDataException($"{source}: messages[{i}].role is missing.");
            if (role is not ("system" or "user" or "assistant" or "tool"))
                throw new InvalidDataException($"{source}: messages[{i}].role '{role}' must be system, user, assistant or tool.");
            string? content = m["content"] switch
            {
                null => null,
                JsonValue v => v.GetValue<string>(),
                JsonArray parts => string.Concat(parts.Select(p => p?["text"]?.GetValue<string>() ?? "")),
                _ => throw new InvalidDataException($"{source}: messages[{i}].content must be a string."),
            };
            List<ToolCall>? calls = null;
            if (m["tool_calls"] is JsonArray tc)
            {
                calls = new();
                for (int j = 0; j < tc.Count; j++)
                {
                    var f = tc[j]?["function"] ?? throw new InvalidDataException($"{source}: messages[{i}].tool_calls[{j}].function is missing.");
                    var name = f["name"]?.GetValue<string>() ?? throw new InvalidDataException($"{source}: messages[{i}].tool_calls[{j}].function.name is missing.");
                    var args = f["arguments"] switch
                    {
                        JsonObject o => (JsonObject)o.DeepClone(),
                        JsonValue s => JsonNode.Parse(s.GetValue<string>()) as JsonObject
                            ?? throw new InvalidDataException($"{source}: messages[{i}].tool_calls[{j}].function.arguments is not a JSON object."),
                        _ => new JsonObject(),
                    };
                    calls.Add(new ToolCall(tc[j]!["id"]?.GetValue<string>() ?? $"call_{j}", name, args));
                }
            }
            if (content is null && calls is null)
                throw new InvalidDataException($"{source}: messages[{i}] needs 'content' (or 'tool_calls' for an assistant).");
            result.Add(new ChatMessage(role, content, calls, m["tool_call_id"]?.GetValue<string>(), m["name"]?.GetValue<string>()));
        }
        return result;
    }
}
