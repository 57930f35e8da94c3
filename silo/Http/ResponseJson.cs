using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Sampling;

namespace Orleans.Rft.Silo.Http;

/// <summary>The fields every response and chunk of one request repeats.</summary>
public sealed record ResponseHeader(string Id, long Created, string Model)
{
    public JsonObject Json(string kind) => new() { ["id"] = Id, ["object"] = kind, ["created"] = Created, ["model"] = Model };

    /// <summary>The last chunk of a stream whose client asked for usage: no choices, the request's token counts.</summary>
    public JsonObject UsageChunk(string kind, int promptTokens, int completionTokens)
    {
        var chunk = Json(kind);
        chunk["choices"] = new JsonArray();
        chunk["usage"] = ResponseJson.Usage(promptTokens, completionTokens);
        return chunk;
    }
}

/// <summary>Pieces of OpenAI's response JSON that chat and text completions share.</summary>
public static class ResponseJson
{
    /// <summary>A finished chat answer as its assistant message and finish reason: <c>tool_calls</c> when the template's parser found calls in <paramref name="text"/>.</summary>
    public static (JsonObject Message, string Finish) AssistantMessage(string text, string finishReason, Engine.Chat.ToolCalls.ToolCallParser? parser)
    {
        if (parser is null) return (new JsonObject { ["role"] = "assistant", ["content"] = text }, finishReason);
        var parsed = parser.Parse(text);
        return (parsed.ToJson(), parsed.ToolCalls.Count > 0 ? "tool_calls" : finishReason);
    }

    /// <summary>One <c>chat.completion.chunk</c> carrying <paramref name="delta"/> for choice <paramref name="index"/>.</summary>
    public static JsonObject ChatChunk(ResponseHeader header, int index, JsonObject delta, string? finish = null)
    {
        var chunk = header.Json("chat.completion.chunk");
        chunk["choices"] = new JsonArray(new JsonObject { ["index"] = index, ["delta"] = delta, ["logprobs"] = null, ["finish_reason"] = finish });
        return chunk;
    }

    public static JsonArray Ids(IEnumerable<int> ids) => new(ids.Select(i => (JsonNode)i).ToArray());

    public static JsonObject Usage(int prompt, int completion) => new()
    {
        ["prompt_tokens"] = prompt, ["completion_tokens"] = completion, ["total_tokens"] = prompt + completion,
    };

    /// <summary>A whole (non-streamed) answer: each choice's finished sequence (tokens, text, log-probs).</summary>
    public static async Task<GeneratedSequence[]> CollectAsync(IAsyncEnumerable<ChoiceEvent> events, int count)
    {
        var done = new GeneratedSequence[count];
        await foreach (var e in events)
            if (e is ChoiceDone d) done[d.Index] = d.Sequence;
        return done;
    }
}
