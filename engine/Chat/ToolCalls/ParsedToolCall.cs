using System.Text.Json.Nodes;

namespace Orleans.Rft.Engine.Chat.ToolCalls;

/// <summary>
/// A function call found in a model's output, in OpenAI's shape:
/// <c>{"id", "type": "function", "function": {"name", "arguments"}}</c> where <c>arguments</c> is
/// JSON text (a JSON object), written as Python's <c>json.dumps(ensure_ascii=False)</c> writes it, as vLLM does.
/// </summary>
public sealed record ParsedToolCall(string Id, ToolCallFunction Function)
{
    public string Type => "function";

    public JsonObject ToJson() => new()
    {
        ["id"] = Id,
        ["type"] = Type,
        ["function"] = new JsonObject { ["name"] = Function.Name, ["arguments"] = Function.Arguments },
    };

    /// <summary>The call as a conversation turn holds it, to render it back into the next prompt.</summary>
    public ToolCall ToChatToolCall() => new(Id, Function.Name, JsonNode.Parse(Function.Arguments)!.AsObject());
}

/// <summary>The <c>function</c> part of a tool call: its name and its arguments as JSON text.</summary>
public sealed record ToolCallFunction(string Name, string Arguments);
