using System.Text;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Engine.Chat;

/// <summary>
/// Llama-3 headers: <c>&lt;|begin_of_text|&gt;</c> then <c>&lt;|start_header_id|&gt;role&lt;|end_header_id|&gt;\n\ncontent&lt;|eot_id|&gt;</c>
/// per turn. Tool calls follow Llama 3.1's JSON form (<c>{"name": …, "parameters": …}</c> as the
/// assistant's content), tool results are <c>ipython</c> turns, and the function signatures are
/// listed in the system turn (the 3.1 template's <c>tools_in_user_message=false</c> branch, without
/// its date header).
/// </summary>
public sealed class Llama3Template : ChatTemplate
{
    public override string Name => "llama3";
    public override IReadOnlyList<string> EndOfTurnTokens => ["<|eot_id|>", "<|eom_id|>"];

    public override IReadOnlyList<ChatSegment> Render(IReadOnlyList<ChatMessage> messages, IReadOnlyList<JsonObject>? tools, bool addGenerationPrompt)
    {
        var segments = new List<ChatSegment> { new("<|begin_of_text|>", false) };
        int start = 0;
        string? system = messages.Count > 0 && messages[0].Role == "system" ? messages[0].Content : null;
        if (system is not null) start = 1;
        if (tools is { Count: > 0 })
        {
            var sb = new StringBuilder("<|start_header_id|>system<|end_header_id|>\n\n");
            sb.Append("Environment: ipython\n\n");
            sb.Append("You have access to the following functions. To call a function, respond with JSON for a function call in the format ");
            sb.Append("{\"name\": function name, \"parameters\": dictionary of argument name and its value}. Do not use variables.\n\n");
            foreach (var tool in tools) sb.Append(PythonJson.Dumps(tool, indent: 4)).Append("\n\n");
            sb.Append(system ?? "").Append("<|eot_id|>");
            segments.Add(new(sb.ToString(), false));
        }
        else if (system is not null)
        {
            segments.Add(new($"<|start_header_id|>system<|end_header_id|>\n\n{system}<|eot_id|>", false));
        }
        for (int i = start; i < messages.Count; i++)
        {
            var m = messages[i];
            if (m.Role == "assistant")
            {
                segments.Add(new("<|start_header_id|>assistant<|end_header_id|>\n\n", false));
                string body;
                if (m.ToolCalls is { Count: > 0 } calls)
                {
                    var call = calls[0]; // Llama 3.1 supports one call per turn
                    body = "{\"name\": " + PythonJson.Dumps(JsonValue.Create(call.Name)) + ", \"parameters\": " + PythonJson.Dumps(call.Arguments) + "}<|eom_id|>";
                }
                else body = (m.Content ?? "") + "<|eot_id|>";
                segments.Add(new(body, true));
            }
            else
            {
                var role = m.Role == "tool" ? "ipython" : m.Role;
                segments.Add(new($"<|start_header_id|>{role}<|end_header_id|>\n\n{m.Content}<|eot_id|>", false));
            }
        }
        if (addGenerationPrompt) segments.Add(new("<|start_header_id|>assistant<|end_header_id|>\n\n", false));
        return segments;
    }
}
