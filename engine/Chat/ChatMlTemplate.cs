using System.Text;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Engine.Chat;

/// <summary>
/// ChatML as Qwen2/2.5/3 ship it (also the project's tiny models): <c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n</c>.
/// Tools go into the system turn inside <c>&lt;tools&gt;</c>; assistant calls are
/// <c>&lt;tool_call&gt;{"name": …, "arguments": …}&lt;/tool_call&gt;</c>; consecutive tool results share one
/// user turn of <c>&lt;tool_response&gt;</c> blocks (Qwen2.5's template).
/// </summary>
public sealed class ChatMlTemplate(string? defaultSystem = null) : ChatTemplate
{
    public const string QwenDefaultSystem = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

    public override string Name => "chatml";
    public override IReadOnlyList<string> EndOfTurnTokens => ["<|im_end|>"];

    public override IReadOnlyList<ChatSegment> Render(IReadOnlyList<ChatMessage> messages, IReadOnlyList<JsonObject>? tools, bool addGenerationPrompt)
    {
        var segments = new List<ChatSegment>();
        int start = 0;
        string? system = messages.Count > 0 && messages[0].Role == "system" ? messages[0].Content : null;
        if (system is not null) start = 1;
        if (tools is { Count: > 0 })
        {
            var sb = new StringBuilder("<|im_start|>system\n");
            sb.Append(system ?? defaultSystem ?? "");
            sb.Append("\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n");
            sb.Append("You are provided with function signatures within <tools></tools> XML tags:\n<tools>");
            foreach (var tool in tools) sb.Append('\n').Append(PythonJson.Dumps(tool));
            sb.Append("\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n");
            sb.Append("<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n");
            segments.Add(new(sb.ToString(), false));
        }
        else if (system is not null || defaultSystem is not null)
        {
            segments.Add(new($"<|im_start|>system\n{system ?? defaultSystem}<|im_end|>\n", false));
        }

        for (int i = start; i < messages.Count; i++)
        {
            var m = messages[i];
            switch (m.Role)
            {
                case "assistant":
                    segments.Add(new("<|im_start|>assistant\n", false));
                    var body = new StringBuilder(m.Content ?? "");
                    foreach (var call in m.ToolCalls ?? [])
                    {
                        if (body.Length > 0) body.Append('\n');
                        body.Append("<tool_call>\n{\"name\": ").Append(PythonJson.Dumps(JsonValue.Create(call.Name)))
                            .Append(", \"arguments\": ").Append(PythonJson.Dumps(call.Arguments)).Append("}\n</tool_call>");
                    }
                    body.Append("<|im_end|>");
                    segments.Add(new(body.ToString(), true));
                    segments.Add(new("\n", false));
                    break;
                case "tool":
                    var first = i == start || messages[i - 1].Role != "tool";
                    var last = i + 1 == messages.Count || messages[i + 1].Role != "tool";
                    segments.Add(new((first ? "<|im_start|>user" : "") + "\n<tool_response>\n" + m.Content + "\n</tool_response>" + (last ? "<|im_end|>\n" : ""), false));
                    break;
                default:
                    segments.Add(new($"<|im_start|>{m.Role}\n{m.Content}<|im_end|>\n", false));
                    break;
            }
        }
        if (addGenerationPrompt) segments.Add(new("<|im_start|>assistant\n", false));
        return segments;
    }
}
