using System.Text;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Evaluators;

/// <summary>
/// The conversation an evaluator scores: the row's prompt messages followed by what the rollout added —
/// for an agent, its whole trajectory (assistant turns with <c>tool_calls</c>, <c>tool</c> results, user
/// turns, the final answer; OpenAI's chat format), else one assistant message with the completion.
/// The python and http evaluators pass it as <c>messages</c>; the judge reads its <see cref="Transcript"/>.
/// </summary>
public static class RolloutConversation
{
    public static JsonArray Messages(EvaluationInput input) => Messages(input.Row, input.Completion, input.Trajectory);

    public static JsonArray Messages(JsonObject row, string completion, JsonArray? trajectory)
    {
        var messages = row["messages"] is JsonArray m ? m.DeepClone().AsArray() : new JsonArray();
        if (trajectory is null) messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = completion });
        else foreach (var message in trajectory) messages.Add(message?.DeepClone());
        return messages;
    }

    /// <summary>
    /// What the rollout answered, as text a judge reads: the completion, or for an agent every turn it
    /// added, tool calls and results included, one block each.
    /// </summary>
    public static string Response(EvaluationInput input) => input.Trajectory is { } t ? Transcript(t) : input.Completion;

    public static string Transcript(JsonArray trajectory)
    {
        var names = new Dictionary<string, string>();
        var blocks = new List<string>();
        foreach (var node in trajectory)
        {
            if (node is not JsonObject message) continue;
            var role = Text(message["role"]) ?? "?";
            var content = Content(message["content"]);
            if (role == "tool")
            {
                var id = Text(message["tool_call_id"]);
                var name = Text(message["name"]) ?? (id is not null && names.TryGetValue(id, out var n) ? n : "tool");
                blocks.Add($"[tool result: {name}]\n{content}");
                continue;
            }
            var block = new StringBuilder();
            if (content.Length > 0) block.Append($"[{role}]\n{content}");
            if (message["tool_calls"] is JsonArray calls)
                foreach (var call in calls.OfType<JsonObject>())
                {
                    var name = Text(call["function"]?["name"]) ?? "?";
                    if (Text(call["id"]) is string id) names[id] = name;
                    var args = call["function"]?["arguments"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : call["function"]?["arguments"]?.ToJsonString() ?? "{}";
                    if (block.Length > 0) block.Append('\n');
                    block.Append($"[tool call: {name}] {args}");
                }
            if (block.Length > 0) blocks.Add(block.ToString());
        }
        return string.Join("\n\n", blocks);
    }

    static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>A message's content: a string, or the text parts of a content list (OpenAI's two forms).</summary>
    public static string Content(JsonNode? node) => node switch
    {
        null => "",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonArray parts => string.Concat(parts.Select(p => Text(p?["text"]) ?? "")),
        _ => node.ToJsonString(),
    };
}
