using System.Text.Json.Nodes;

namespace Orleans.Rft.Engine.Chat.ToolCalls;

/// <summary>
/// A model's output split into what the assistant said (<see cref="Content"/>, null when it said
/// nothing besides its calls), its reasoning (<c>&lt;think&gt;</c> blocks, null when none) and its tool calls.
/// A call that could not be parsed is not an exception: its text stays in <see cref="Content"/> and
/// <see cref="Errors"/> says where and why (character offsets into the output).
/// </summary>
public sealed record ToolCallParseResult(
    string? Content,
    string? ReasoningContent,
    IReadOnlyList<ParsedToolCall> ToolCalls,
    IReadOnlyList<string> Errors)
{
    /// <summary>The OpenAI assistant message: <c>{"role", "content", "reasoning_content"?, "tool_calls"?}</c>.</summary>
    public JsonObject ToJson()
    {
        var message = new JsonObject { ["role"] = "assistant", ["content"] = Content };
        if (ReasoningContent is not null) message["reasoning_content"] = ReasoningContent;
        if (ToolCalls.Count > 0) message["tool_calls"] = new JsonArray(ToolCalls.Select(c => (JsonNode)c.ToJson()).ToArray());
        return message;
    }
}
