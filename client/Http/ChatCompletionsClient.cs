using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Client.Http;

/// <summary>What one streamed chat turn returned: the assistant's text, why it stopped, and the token counts when the server sent them.</summary>
public sealed record ChatTurn(string Content, string? FinishReason, int? PromptTokens, int? CompletionTokens);

/// <summary>An error the server answered with (OpenAI's <c>{"error": {"message", "type", "code"}}</c>), or the connection's failure.</summary>
public sealed class ChatServerException(HttpStatusCode? status, string message) : Exception(message)
{
    public HttpStatusCode? Status { get; } = status;
    /// <summary>Retrying with another message cannot help: wrong key, unknown model, nothing listening.</summary>
    public bool IsFatal => Status is null or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound;
}

/// <summary>
/// <c>POST {base}/chat/completions</c> with <c>stream: true</c> against any OpenAI-compatible server:
/// the content deltas are handed to <c>onDelta</c> as they arrive. Own code over <see cref="HttpClient"/>
/// (no SDK): the console needs one call, and the reader is a few lines.
/// </summary>
public sealed class ChatCompletionsClient(HttpClient http, Uri baseUrl, string? apiKey)
{
    /// <summary>A whole turn's deadline: a first token may wait for a model to load, a long answer streams for minutes.</summary>
    public static readonly TimeSpan TurnTimeout = TimeSpan.FromMinutes(10);

    public async Task<ChatTurn> StreamAsync(string model, JsonArray messages, double? temperature, int? maxTokens, Action<string> onDelta, CancellationToken cancellation)
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["messages"] = messages.DeepClone(),
            ["stream"] = true,
            ["stream_options"] = new JsonObject { ["include_usage"] = true },
        };
        if (temperature is double t) body["temperature"] = t;
        if (maxTokens is int m) body["max_tokens"] = m;
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl.ToString().TrimEnd('/') + "/chat/completions"))
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (!string.IsNullOrEmpty(apiKey)) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(TurnTimeout);
        HttpResponseMessage response;
        try { response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token); }
        catch (HttpRequestException e) { throw new ChatServerException(null, $"cannot reach {baseUrl}: {e.Message}"); }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested) { throw new ChatServerException(null, $"{baseUrl} did not answer within {TurnTimeout.TotalMinutes:F0} minutes."); }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
                throw new ChatServerException(response.StatusCode, $"{(int)response.StatusCode} {response.ReasonPhrase}: {ErrorMessage(await response.Content.ReadAsStringAsync(deadline.Token))}");
            var text = new StringBuilder();
            string? finish = null;
            int? promptTokens = null, completionTokens = null;
            await using var stream = await response.Content.ReadAsStreamAsync(deadline.Token);
            await foreach (var data in ServerSentEvents.ReadDataAsync(stream, deadline.Token))
            {
                if (data == "[DONE]") break;
                var chunk = JsonNode.Parse(data)?.AsObject() ?? throw new ChatServerException(response.StatusCode, $"the server sent an event that is not a JSON object: {Clip(data)}");
                if (chunk["error"] is not null) throw new ChatServerException(response.StatusCode, $"error during the stream: {ErrorMessage(data)}");
                if (chunk["usage"] is JsonObject usage)
                    (promptTokens, completionTokens) = ((int?)usage["prompt_tokens"], (int?)usage["completion_tokens"]);
                if (chunk["choices"] is not JsonArray { Count: > 0 } choices) continue;
                if (choices[0]?["delta"]?["content"] is JsonValue delta && delta.GetValue<string>() is { Length: > 0 } piece)
                {
                    text.Append(piece);
                    onDelta(piece);
                }
                if (choices[0]?["finish_reason"] is JsonValue reason) finish = reason.GetValue<string>();
            }
            return new ChatTurn(text.ToString(), finish, promptTokens, completionTokens);
        }
    }

    /// <summary>The message of OpenAI's error shape, or the body itself (clipped) when the server sent something else.</summary>
    public static string ErrorMessage(string body)
    {
        try
        {
            if (JsonNode.Parse(body) is JsonObject o && o["error"] is JsonNode error)
                return error is JsonObject e ? (string?)e["message"] ?? Clip(error.ToJsonString()) : Clip(error.ToString());
        }
        catch (System.Text.Json.JsonException) { }
        return string.IsNullOrWhiteSpace(body) ? "(no body)" : Clip(body);
    }

    static string Clip(string s)
    {
        s = s.ReplaceLineEndings(" ");
        return s.Length <= 300 ? s : s[..300] + "…";
    }
}
