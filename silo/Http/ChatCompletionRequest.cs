using System.Text.Json;
using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Chat;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// <c>POST /v1/chat/completions</c>, read: OpenAI's fields (messages with <c>tool_calls</c> and
/// <c>tool</c> turns, content as a string or text parts; <c>tools</c>; <c>tool_choice</c> <c>auto</c> or
/// <c>none</c>; <c>logprobs</c> / <c>top_logprobs</c>; <c>max_completion_tokens</c> or <c>max_tokens</c>)
/// and vLLM's <c>chat_template_kwargs</c>. Unknown fields are ignored, as OpenAI-compatible servers do.
/// </summary>
public sealed record ChatCompletionRequest(
    SamplingRequest Sampling,
    IReadOnlyList<ChatMessage> Messages,
    IReadOnlyList<JsonObject>? Tools,
    bool ParseToolCalls,
    JsonObject? ChatTemplateKwargs)
{
    public static ChatCompletionRequest Read(JsonObject body)
    {
        bool logprobs = RequestFields.Bool(body, "logprobs") ?? false;
        int? top = RequestFields.Int(body, "top_logprobs", 0, 20);
        if (top is not null && !logprobs) throw OpenAIError.BadRequest("'top_logprobs' needs 'logprobs': true.", "top_logprobs");
        var sampling = SamplingRequest.Read(body, logprobs ? top ?? 0 : null, "max_completion_tokens");
        RequestFields.Unsupported(body, "response_format", v => v is JsonObject o && o["type"] is JsonValue t && t.TryGetValue<string>(out var kind) && kind == "text", "only {\"type\": \"text\"} is supported; describe the format in the prompt");
        return new ChatCompletionRequest(sampling, ReadMessages(body), ReadTools(body), ToolChoice(body) == "auto", RequestFields.Object(body, "chat_template_kwargs"));
    }

    static List<ChatMessage> ReadMessages(JsonObject body)
    {
        if (body["messages"] is not JsonArray { Count: > 0 } array)
            throw OpenAIError.BadRequest("'messages' must be a non-empty array of {role, content} objects.", "messages");
        for (int i = 0; i < array.Count; i++)
            if ((array[i] as JsonObject)?["content"] is JsonArray parts) // not an object: ParseList names it
                for (int k = 0; k < parts.Count; k++)
                    if (parts[k] is not JsonObject part || part["type"]?.GetValueKind() != JsonValueKind.String || part["type"]!.GetValue<string>() != "text")
                        throw OpenAIError.BadRequest($"messages[{i}].content[{k}] is not a text part; this server takes text only ({{\"type\": \"text\", \"text\": …}}).", $"messages[{i}].content");
        try { return ChatMessage.ParseList(array, "messages"); }
        catch (InvalidDataException e) { throw OpenAIError.BadRequest(e.Message["messages: ".Length..], "messages"); }
    }

    static List<JsonObject>? ReadTools(JsonObject body)
    {
        if (body["tools"] is null) return null;
        if (body["tools"] is not JsonArray array) throw RequestFields.Wrong("tools", body["tools"], "an array of {\"type\": \"function\", \"function\": {name, description, parameters}}");
        var tools = new List<JsonObject>();
        for (int i = 0; i < array.Count; i++)
        {
            if (array[i] is not JsonObject tool || tool["type"]?.ToString() != "function" || tool["function"] is not JsonObject f
                || f["name"] is not JsonValue name || name.GetValueKind() != JsonValueKind.String)
                throw OpenAIError.BadRequest($"tools[{i}] must be {{\"type\": \"function\", \"function\": {{\"name\": …, \"parameters\": …}}}}.", $"tools[{i}]");
            tools.Add((JsonObject)tool.DeepClone());
        }
        return tools.Count == 0 ? null : tools;
    }

    /// <summary><c>auto</c> (the default) or <c>none</c>; <c>required</c> and a named function are not implemented.</summary>
    static string ToolChoice(JsonObject body) => body["tool_choice"] switch
    {
        null => "auto",
        JsonValue v when v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() is "auto" or "none" => v.GetValue<string>(),
        var other => throw OpenAIError.BadRequest($"'tool_choice' {other.ToJsonString()} is not supported; use \"auto\" or \"none\".", "tool_choice"),
    };
}
