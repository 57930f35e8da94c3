using System.Text.Json.Nodes;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Client.Jobs;

/// <summary>
/// How <c>rft rollouts</c> shows an agent rollout: what the agent did (model calls, tool calls, errors,
/// extra training sequences), its failure, and its turns from <see cref="AgentReport.MessagesJson"/>
/// (the messages it added after the prompt, OpenAI format): assistant text, each tool call with its
/// arguments, each tool result. As text for a terminal, or as a snake_case JSON object.
/// </summary>
public static class AgentRolloutView
{
    /// <summary>Characters of one message shown in the terminal; <c>--json</c> keeps everything.</summary>
    public const int MaxShownChars = 2000;

    /// <summary>The rollout's lines for a terminal, with control characters from the job replaced (<see cref="TerminalText"/>).</summary>
    public static List<string> Lines(AgentReport agent, int extraSamples) => RawLines(agent, extraSamples).Select(TerminalText.Safe).ToList();

    static List<string> RawLines(AgentReport agent, int extraSamples)
    {
        var lines = new List<string>();
        var summary = $"agent: {Count(agent.ModelCalls, "model call")}, {Count(agent.ToolCalls, "tool call")}";
        if (agent.ToolErrors > 0) summary += $" ({Count(agent.ToolErrors, "error")})";
        if (extraSamples > 0) summary += $", {Count(extraSamples, "extra sample")} (re-rendered history)";
        lines.Add(summary);
        if (agent.FailureKind is not null) lines.Add($"failed: {agent.FailureKind}: {agent.Failure}");
        if (agent.ReportedScore is double s) lines.Add($"agent reported score {s:G4}{(agent.ReportedReason is { Length: > 0 } why ? $": {why}" : "")}");
        var turns = Turns(agent.MessagesJson, out var unreadable);
        if (unreadable is not null) { lines.Add($"turns: unreadable ({unreadable})"); return lines; }
        if (turns.Count == 0) return lines;
        lines.Add("turns:");
        int n = 0;
        foreach (var t in turns)
        {
            var head = $"  [{++n}] {(t.Role == "tool" ? $"tool result{(t.Name is null ? "" : $" ({t.Name})")}" : t.Role)}: ";
            var pad = new string(' ', head.Length);
            lines.Add(head + Shown(t.Content).Replace("\n", "\n" + pad));
            foreach (var call in t.Calls) lines.Add($"{pad}→ tool call {call.Name} {Shown(call.Arguments)}");
        }
        return lines;
    }

    public static JsonObject Json(AgentReport agent, int extraSamples)
    {
        var turns = Turns(agent.MessagesJson, out var unreadable);
        var o = new JsonObject
        {
            ["model_calls"] = agent.ModelCalls, ["tool_calls"] = agent.ToolCalls, ["tool_errors"] = agent.ToolErrors,
            ["extra_samples"] = extraSamples, ["failure_kind"] = agent.FailureKind, ["failure"] = agent.Failure,
            ["reported_score"] = agent.ReportedScore, ["reported_reason"] = agent.ReportedReason,
            ["turns"] = new JsonArray(turns.Select(t => (JsonNode?)new JsonObject
            {
                ["role"] = t.Role, ["content"] = t.Content, ["name"] = t.Name, ["tool_call_id"] = t.ToolCallId,
                ["tool_calls"] = new JsonArray(t.Calls.Select(c => (JsonNode?)new JsonObject { ["id"] = c.Id, ["name"] = c.Name, ["arguments"] = c.Arguments }).ToArray()),
            }).ToArray()),
        };
        if (unreadable is not null) { o["messages_unreadable"] = unreadable; o["messages_json"] = agent.MessagesJson; }
        return o;
    }

    public sealed record ToolCall(string? Id, string Name, string Arguments);

    public sealed record Turn(string Role, string Content, string? Name, string? ToolCallId, IReadOnlyList<ToolCall> Calls);

    /// <summary>The agent's messages as turns; a tool result names its tool (by <c>name</c>, else by the call it answers).</summary>
    public static List<Turn> Turns(string messagesJson, out string? unreadable)
    {
        unreadable = null;
        JsonArray messages;
        try { messages = JsonNode.Parse(string.IsNullOrWhiteSpace(messagesJson) ? "[]" : messagesJson) as JsonArray ?? throw new FormatException("not a JSON array"); }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException) { unreadable = e.Message; return []; }
        var names = new Dictionary<string, string>();
        var turns = new List<Turn>();
        foreach (var m in messages.OfType<JsonObject>())
        {
            var calls = (m["tool_calls"] as JsonArray ?? []).OfType<JsonObject>().Select(c =>
            {
                var name = Text(c["function"]?["name"]) ?? "?";
                var id = Text(c["id"]);
                if (id is not null) names[id] = name;
                var args = c["function"]?["arguments"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : c["function"]?["arguments"]?.ToJsonString() ?? "{}";
                return new ToolCall(id, name, args);
            }).ToList();
            var callId = Text(m["tool_call_id"]);
            var toolName = Text(m["name"]) ?? (callId is not null && names.TryGetValue(callId, out var n) ? n : null);
            turns.Add(new Turn(Text(m["role"]) ?? "?", Content(m["content"]), toolName, callId, calls));
        }
        return turns;
    }

    static string Count(int n, string what) => $"{n} {what}{(n == 1 ? "" : "s")}";

    static string Shown(string text) => text.Length <= MaxShownChars ? text : text[..MaxShownChars] + $"… ({text.Length - MaxShownChars} more characters; --json has all)";

    static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    static string Content(JsonNode? node) => Evaluators.RolloutConversation.Content(node);
}
