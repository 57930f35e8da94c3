using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans.Rft.Engine.Sampling;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// <c>POST /v1/completions</c>: text in, text out, no chat template. <c>prompt</c> is a string, a list
/// of strings, a list of token ids or a list of such lists; each prompt gets <c>n</c> choices, numbered
/// prompt by prompt (choice <c>p·n + i</c>, as OpenAI numbers them). Text is encoded with the
/// tokenizer's special tokens (a Llama model's BOS), as Hugging Face and vLLM encode a prompt; ids are taken as given.
/// </summary>
public static class CompletionsApi
{
    public static RouteHandlerBuilder MapCompletionsApi(this IEndpointRouteBuilder v1) =>
        v1.MapPost("/completions", Handle);

    static async Task Handle(HttpContext http, ModelCatalog catalog, ModelLeases leases, ModelFilesCache files, ChoiceGeneration generation)
    {
        var cancellation = http.RequestAborted;
        var body = await RequestFields.ReadBodyAsync(http.Request, cancellation);
        var s = SamplingRequest.Read(body, RequestFields.Int(body, "logprobs", 0, 20), "max_tokens");
        RequestFields.Unsupported(body, "echo", v => v.GetValueKind() == JsonValueKind.False, "leave it out or give false");
        RequestFields.Unsupported(body, "suffix", _ => false, "leave it out");
        RequestFields.Unsupported(body, "best_of", v => v is JsonValue b && b.TryGetValue<int>(out var k) && k == s.N, "leave it out (or give the same value as n)");
        using var model = await ServingModel.OpenAsync(s.Model, catalog, leases, files, cancellation);
        var prompts = Prompts(body, model.Files);
        if ((long)prompts.Count * s.N > SamplingRequest.MaxChoices)
            throw OpenAIError.BadRequest($"{prompts.Count} prompts × n = {s.N} asks for {prompts.Count * s.N} choices; give at most {SamplingRequest.MaxChoices} per request.", "n");
        var choices = new List<ChoiceRequest>();
        for (int p = 0; p < prompts.Count; p++)
        {
            int maxTokens = model.MaxTokens(prompts[p].Length, s.MaxTokens, "max_tokens", "prompt");
            for (int i = 0; i < s.N; i++) choices.Add(new ChoiceRequest(p * s.N + i, prompts[p], s.Options(p * s.N + i, maxTokens)));
        }
        var header = new ResponseHeader("cmpl-" + Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), s.Model);
        var events = generation.RunAsync(model.BaseModel, model.Adapter, model.Model.AdapterKey, choices, streamTokens: s.Stream, cancellation);
        int promptTokens = prompts.Sum(p => p.Length);
        if (s.Stream) await Stream(http, header, s, prompts, model.Files, events, promptTokens, cancellation);
        else await http.Response.WriteAsJsonAsync(await Whole(header, s, prompts, model.Files, events, choices.Count, promptTokens), cancellation);
    }

    static List<int[]> Prompts(JsonObject body, ModelFiles files)
    {
        var prompt = body["prompt"] ?? throw OpenAIError.BadRequest("'prompt' is required: a string, a list of strings, a list of token ids or a list of token-id lists.", "prompt");
        var prompts = prompt switch
        {
            JsonValue v when v.GetValueKind() == JsonValueKind.String => [files.Tokenizer.Encode(v.GetValue<string>(), addSpecialTokens: true)],
            JsonArray { Count: > 0 } a when a.All(x => x?.GetValueKind() == JsonValueKind.String) => a.Select(x => files.Tokenizer.Encode(x!.GetValue<string>(), addSpecialTokens: true)).ToList(),
            JsonArray { Count: > 0 } a when a.All(x => x?.GetValueKind() == JsonValueKind.Number) => [TokenIds(a, "prompt", files)],
            JsonArray { Count: > 0 } a when a.All(x => x is JsonArray) => a.Select((x, i) => TokenIds((JsonArray)x!, $"prompt[{i}]", files)).ToList(),
            _ => throw OpenAIError.BadRequest("'prompt' must be a string, a list of strings, a list of token ids or a list of token-id lists (non-empty).", "prompt"),
        };
        for (int i = 0; i < prompts.Count; i++)
            if (prompts[i].Length == 0) throw OpenAIError.BadRequest($"prompt {i} is empty; give at least one token of text.", "prompt");
        return prompts;
    }

    static int[] TokenIds(JsonArray ids, string field, ModelFiles files)
    {
        var result = new int[ids.Count];
        for (int i = 0; i < ids.Count; i++)
        {
            if (ids[i] is not JsonValue v || !v.TryGetValue<int>(out var id) || id < 0 || id >= files.Config.VocabSize)
                throw OpenAIError.BadRequest($"{field}[{i}] must be a token id in [0, {files.Config.VocabSize}).", "prompt");
            result[i] = id;
        }
        return result;
    }

    static async Task<JsonObject> Whole(ResponseHeader header, SamplingRequest s, List<int[]> prompts, ModelFiles files, IAsyncEnumerable<ChoiceEvent> events, int count, int promptTokens)
    {
        var done = await ResponseJson.CollectAsync(events, count);
        var choices = new JsonArray();
        for (int i = 0; i < count; i++)
        {
            var choice = new JsonObject
            {
                ["index"] = i,
                ["text"] = done[i].Text,
                ["logprobs"] = s.LogProbs is null ? null : TokenLogProbs.ToCompletionJson(TokenLogProbs.Of(done[i]), files),
                ["finish_reason"] = done[i].FinishReason,
            };
            if (s.ReturnTokenIds)
            {
                choice["prompt_token_ids"] = ResponseJson.Ids(prompts[i / s.N]);
                choice["token_ids"] = ResponseJson.Ids(done[i].TokenIds);
            }
            choices.Add(choice);
        }
        var response = header.Json("text_completion");
        response["choices"] = choices;
        response["usage"] = ResponseJson.Usage(promptTokens, done.Sum(d => d.TokenIds.Length));
        return response;
    }

    static async Task Stream(HttpContext http, ResponseHeader header, SamplingRequest s, List<int[]> prompts, ModelFiles files, IAsyncEnumerable<ChoiceEvent> events,
        int promptTokens, CancellationToken cancellation)
    {
        var sse = ServerSentEvents.Start(http.Response);
        var emitted = new Dictionary<int, int>(); // choice → characters of text sent
        var sentPrompt = new HashSet<int>();
        int completionTokens = 0;
        JsonObject Chunk(int index, string text, string? finish = null)
        {
            var chunk = header.Json("text_completion");
            var choice = new JsonObject { ["index"] = index, ["text"] = text, ["logprobs"] = null, ["finish_reason"] = finish };
            if (s.ReturnTokenIds && sentPrompt.Add(index)) choice["prompt_token_ids"] = ResponseJson.Ids(prompts[index / s.N]);
            chunk["choices"] = new JsonArray(choice);
            return chunk;
        }
        try
        {
            await foreach (var e in events)
            {
                if (e is ChoiceToken t)
                {
                    if (t.Token.TextDelta.Length == 0 && s.LogProbs is null && !s.ReturnTokenIds) continue;
                    int before = emitted.GetValueOrDefault(t.Index);
                    emitted[t.Index] = before + t.Token.TextDelta.Length;
                    var chunk = Chunk(t.Index, t.Token.TextDelta);
                    var choice = chunk["choices"]![0]!;
                    if (s.LogProbs is not null) choice["logprobs"] = TokenLogProbs.ToCompletionJson([TokenLogProbs.Of(t.Token)], files, before);
                    if (s.ReturnTokenIds) choice["token_ids"] = ResponseJson.Ids([t.Token.Id]);
                    await sse.SendAsync(chunk, cancellation);
                }
                else if (e is ChoiceDone d)
                {
                    completionTokens += d.Sequence.TokenIds.Length;
                    int sent = emitted.GetValueOrDefault(d.Index);
                    var rest = d.Sequence.Text.Length > sent ? d.Sequence.Text[sent..] : ""; // text the service reported only at the end
                    await sse.SendAsync(Chunk(d.Index, rest, d.Sequence.FinishReason), cancellation);
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellation.IsCancellationRequested)
        {
            await sse.FailAsync(e, cancellation);
            return;
        }
        await sse.EndAsync(s.IncludeUsage ? header.UsageChunk("text_completion", promptTokens, completionTokens) : null, cancellation);
    }
}
