using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans.Rft.Engine.Chat.ToolCalls;
using Orleans.Rft.Engine.Sampling;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// <c>POST /v1/chat/completions</c>: renders the messages with the model's own chat template, samples
/// <c>n</c> choices and answers in OpenAI's shape, whole or as server-sent events. With tools (and
/// <c>tool_choice</c> auto) each output goes through the tool-call parser of the template's format:
/// calls become <c>tool_calls</c> with <c>finish_reason: tool_calls</c>, a malformed call stays text.
/// Streamed with tools, a choice's message is sent whole when it ends, so a call is never half-sent as text.
/// </summary>
public static class ChatCompletionsApi
{
    public static RouteHandlerBuilder MapChatCompletionsApi(this IEndpointRouteBuilder v1) =>
        v1.MapPost("/chat/completions", Handle);

    static async Task Handle(HttpContext http, ModelCatalog catalog, ModelLeases leases, ModelFilesCache files, ChoiceGeneration generation)
    {
        var cancellation = http.RequestAborted;
        var request = ChatCompletionRequest.Read(await RequestFields.ReadBodyAsync(http.Request, cancellation));
        var s = request.Sampling;
        using var model = await ServingModel.OpenAsync(s.Model, catalog, leases, files, cancellation);
        int[] prompt;
        try { prompt = model.Files.Template.Encode(model.Files.Tokenizer, request.Messages, request.Tools, addGenerationPrompt: true, kwargs: request.ChatTemplateKwargs).Ids; }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw OpenAIError.BadRequest($"The model's chat template could not render these messages: {e.Message}", "messages");
        }
        int maxTokens = model.MaxTokens(prompt.Length, s.MaxTokens, "max_completion_tokens", "messages");
        var choices = Enumerable.Range(0, s.N).Select(i => new ChoiceRequest(i, prompt, s.Options(i, maxTokens))).ToList();
        var parser = request.Tools is not null && request.ParseToolCalls ? model.Files.ToolCallParser() : null;
        var response = new ResponseHeader("chatcmpl-" + Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), s.Model);
        var events = generation.RunAsync(model.BaseModel, model.Adapter, model.Model.AdapterKey, choices, streamTokens: s.Stream && parser is null, cancellation); // with tools the answer is parsed whole when it ends
        if (s.Stream) await Stream(http, response, s, prompt, model.Files, parser, events, cancellation);
        else await http.Response.WriteAsJsonAsync(await Whole(response, s, prompt, model.Files, parser, events), cancellation);
    }

    static async Task<JsonObject> Whole(ResponseHeader header, SamplingRequest s, int[] prompt, ModelFiles files, ToolCallParser? parser, IAsyncEnumerable<ChoiceEvent> events)
    {
        var done = await ResponseJson.CollectAsync(events, s.N);
        var choices = new JsonArray();
        for (int i = 0; i < s.N; i++)
        {
            var (message, finish) = Message(done[i], parser);
            var choice = new JsonObject
            {
                ["index"] = i,
                ["message"] = message,
                ["logprobs"] = s.LogProbs is null ? null : new JsonObject { ["content"] = new JsonArray(TokenLogProbs.Of(done[i]).Select(t => (JsonNode)t.ToChatJson(files)).ToArray()) },
                ["finish_reason"] = finish,
            };
            if (s.ReturnTokenIds) choice["token_ids"] = ResponseJson.Ids(done[i].TokenIds);
            choices.Add(choice);
        }
        var response = header.Json("chat.completion");
        response["choices"] = choices;
        response["usage"] = ResponseJson.Usage(prompt.Length, done.Sum(d => d.TokenIds.Length));
        if (s.ReturnTokenIds) response["prompt_token_ids"] = ResponseJson.Ids(prompt);
        return response;
    }

    /// <summary>The assistant message of a finished choice and its finish reason (<c>tool_calls</c> when the parser found calls).</summary>
    static (JsonObject Message, string Finish) Message(GeneratedSequence sequence, ToolCallParser? parser) =>
        ResponseJson.AssistantMessage(sequence.Text, sequence.FinishReason, parser);

    static async Task Stream(HttpContext http, ResponseHeader header, SamplingRequest s, int[] prompt, ModelFiles files, ToolCallParser? parser,
        IAsyncEnumerable<ChoiceEvent> events, CancellationToken cancellation)
    {
        var sse = ServerSentEvents.Start(http.Response);
        var emitted = Enumerable.Range(0, s.N).Select(_ => new System.Text.StringBuilder()).ToArray();
        int completionTokens = 0;
        for (int i = 0; i < s.N; i++)
        {
            var first = Chunk(header, i, new JsonObject { ["role"] = "assistant", ["content"] = "" });
            if (s.ReturnTokenIds && i == 0) first["prompt_token_ids"] = ResponseJson.Ids(prompt);
            await sse.SendAsync(first, cancellation);
        }
        try
        {
            await foreach (var e in events)
            {
                if (e is ChoiceToken t)
                {
                    if (parser is not null) continue; // with tools the answer is parsed whole when it ends (below)
                    if (t.Token.TextDelta.Length == 0 && s.LogProbs is null && !s.ReturnTokenIds) continue;
                    emitted[t.Index].Append(t.Token.TextDelta);
                    var chunk = Chunk(header, t.Index, new JsonObject { ["content"] = t.Token.TextDelta });
                    if (s.LogProbs is not null) chunk["choices"]![0]!["logprobs"] = new JsonObject { ["content"] = new JsonArray(TokenLogProbs.Of(t.Token).ToChatJson(files)) };
                    if (s.ReturnTokenIds) chunk["choices"]![0]!["token_ids"] = ResponseJson.Ids([t.Token.Id]);
                    await sse.SendAsync(chunk, cancellation);
                }
                else if (e is ChoiceDone d)
                {
                    completionTokens += d.Sequence.TokenIds.Length;
                    string finish = d.Sequence.FinishReason;
                    if (parser is not null)
                    {
                        var (message, reason) = Message(d.Sequence, parser);
                        finish = reason;
                        message.Remove("role");
                        if (message["tool_calls"] is JsonArray calls)
                            for (int k = 0; k < calls.Count; k++) calls[k]!["index"] = k;
                        var chunk = Chunk(header, d.Index, message);
                        if (s.LogProbs is not null) chunk["choices"]![0]!["logprobs"] = new JsonObject { ["content"] = new JsonArray(TokenLogProbs.Of(d.Sequence).Select(x => (JsonNode)x.ToChatJson(files)).ToArray()) };
                        if (s.ReturnTokenIds) chunk["choices"]![0]!["token_ids"] = ResponseJson.Ids(d.Sequence.TokenIds);
                        await sse.SendAsync(chunk, cancellation);
                    }
                    else if (d.Sequence.Text.Length > emitted[d.Index].Length && d.Sequence.Text.StartsWith(emitted[d.Index].ToString(), StringComparison.Ordinal))
                        await sse.SendAsync(Chunk(header, d.Index, new JsonObject { ["content"] = d.Sequence.Text[emitted[d.Index].Length..] }), cancellation); // text the service reported only at the end
                    await sse.SendAsync(Chunk(header, d.Index, new JsonObject(), finish), cancellation);
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellation.IsCancellationRequested)
        {
            await sse.FailAsync(e, cancellation);
            return;
        }
        await sse.EndAsync(s.IncludeUsage ? header.UsageChunk("chat.completion.chunk", prompt.Length, completionTokens) : null, cancellation);
    }

    static JsonObject Chunk(ResponseHeader header, int index, JsonObject delta, string? finish = null) => ResponseJson.ChatChunk(header, index, delta, finish);
}
