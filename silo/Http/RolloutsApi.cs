using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rft.Agents;
using Orleans.Rft.Agents.Remote;
using Orleans.Rft.Engine.Chat.ToolCalls;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// The traced OpenAI base URL a remote agent gets for one rollout (DESIGN §5): <c>/rollouts/{id}/v1</c>.
/// <c>POST …/v1/chat/completions</c> samples the job's current policy through the rollout's
/// <see cref="IPolicy"/> (recorded: prompt ids, completion ids, log-probs, version — the trajectory) with
/// the job's sampling settings; a request may lower <c>max_tokens</c> and add <c>stop</c> strings, but not
/// change temperature, top_p or top_k, which are the policy being trained. <c>n</c> is 1. The messages are
/// rendered with the job's template and chat_template_kwargs (the request's are not used).
/// <c>GET …/v1/models</c> lists the one model; <c>POST /rollouts/{id}/status</c> takes a pushed
/// <c>{terminated, info, status}</c> of at most 64 KiB. All of them take only that rollout's token (<c>api_key</c> of its
/// /init); they sit outside the API-key check of <c>/v1</c>.
/// </summary>
public static class RolloutsApi
{
    public static void MapRolloutsApi(this IEndpointRouteBuilder app)
    {
        var rollouts = app.MapGroup("/rollouts/{rolloutId}");
        rollouts.AddEndpointFilter((context, next) => OpenAIErrors.Filter(context, next));
        rollouts.MapPost("/v1/chat/completions", ChatAsync);
        rollouts.MapGet("/v1/models", Models);
        rollouts.MapPost("/status", PushStatusAsync);
        app.ServiceProvider.GetService<RemoteAgentEndpoint>()?.MarkServed(); // remote agents may run in this host from now on
    }

    /// <summary>The rollout's session, or OpenAI's 401, the same for every refusal (repeated wrong tokens end a live rollout: <c>bad_token</c>).</summary>
    static RemoteRolloutSession Authorize(HttpContext http, string rolloutId, RemoteRolloutRegistry registry)
    {
        var access = registry.Authorize(rolloutId, http.Request.Headers.Authorization.ToString());
        return access.Session ?? throw new OpenAIError(StatusCodes.Status401Unauthorized,
            $"Incorrect API key for this rollout: {access.Refusal}. Send 'Authorization: Bearer <api_key>' with the api_key of this rollout's /init.",
            null, "invalid_request_error", "invalid_api_key");
    }

    static async Task ChatAsync(HttpContext http, string rolloutId, RemoteRolloutRegistry registry)
    {
        var session = Authorize(http, rolloutId, registry);
        var body = await RequestFields.ReadBodyAsync(http.Request, http.RequestAborted);
        body["model"] ??= session.Model;
        var request = ChatCompletionRequest.Read(body);
        var s = request.Sampling;
        if (s.N != 1) throw OpenAIError.BadRequest($"'n' is {s.N}; a rollout's model call samples one answer (call again for another).", "n");
        var policy = session.Policy;
        int[] prompt;
        try { prompt = policy.Render(request.Messages, request.Tools); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw OpenAIError.BadRequest($"The model's chat template could not render these messages: {e.Message}", "messages");
        }
        int room = policy.MaxContextTokens - prompt.Length;
        if (room < 1)
            throw new OpenAIError(StatusCodes.Status400BadRequest, $"This rollout's context is {policy.MaxContextTokens} tokens (training.max_context_length) and the messages take {prompt.Length}; shorten the conversation.",
                "messages", "invalid_request_error", "context_length_exceeded");
        var job = policy.Options;
        var options = job with
        {
            MaxTokens = Math.Min(Math.Min(job.MaxTokens, s.MaxTokens ?? int.MaxValue), room),
            Stop = (job.Stop ?? []).Concat(s.Stop).Distinct().ToList(),
        };
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, session.Ended);
        ModelCall call;
        try { call = await policy.SampleAsync(prompt, options, stop.Token); }
        catch (OperationCanceledException) when (session.Ended.IsCancellationRequested && !http.RequestAborted.IsCancellationRequested)
        {
            throw new OpenAIError(StatusCodes.Status410Gone, $"Rollout '{rolloutId}' ended while this call was sampling; its token is no longer valid.", null, "invalid_request_error", "rollout_ended");
        }
        var parser = request.Tools is not null && request.ParseToolCalls && ToolCallParsers.DetectName(policy.Template) is string name ? ToolCallParsers.Create(name) : null;
        var (message, finish) = Answer(call, parser);
        session.Record((JsonArray)body["messages"]!.DeepClone(), (JsonObject)message.DeepClone());

        var header = new ResponseHeader("chatcmpl-" + Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), s.Model);
        JsonNode? logprobs = s.LogProbs is null ? null : new JsonObject
        {
            ["content"] = new JsonArray(call.CompletionIds.Select((id, i) => (JsonNode)new JsonObject
            {
                ["token"] = policy.Tokenizer.Decode([id]), ["logprob"] = call.LogProbs[i], ["bytes"] = null, ["top_logprobs"] = new JsonArray(),
            }).ToArray()),
        };
        if (s.Stream)
        {
            var sse = ServerSentEvents.Start(http.Response);
            var first = Chunk(header, new JsonObject { ["role"] = "assistant", ["content"] = "" });
            if (s.ReturnTokenIds) first["prompt_token_ids"] = ResponseJson.Ids(prompt);
            await sse.SendAsync(first, http.RequestAborted);
            message.Remove("role");
            if (message["tool_calls"] is JsonArray calls)
                for (int k = 0; k < calls.Count; k++) calls[k]!["index"] = k;
            var whole = Chunk(header, message);
            whole["choices"]![0]!["logprobs"] = logprobs;
            if (s.ReturnTokenIds) whole["choices"]![0]!["token_ids"] = ResponseJson.Ids(call.CompletionIds);
            await sse.SendAsync(whole, http.RequestAborted);
            await sse.SendAsync(Chunk(header, new JsonObject(), finish), http.RequestAborted);
            await sse.EndAsync(s.IncludeUsage ? header.UsageChunk("chat.completion.chunk", prompt.Length, call.CompletionIds.Length) : null, http.RequestAborted);
            return;
        }
        var choice = new JsonObject { ["index"] = 0, ["message"] = message, ["logprobs"] = logprobs, ["finish_reason"] = finish };
        if (s.ReturnTokenIds) choice["token_ids"] = ResponseJson.Ids(call.CompletionIds);
        var response = header.Json("chat.completion");
        response["choices"] = new JsonArray(choice);
        response["usage"] = ResponseJson.Usage(prompt.Length, call.CompletionIds.Length);
        if (s.ReturnTokenIds) response["prompt_token_ids"] = ResponseJson.Ids(prompt);
        await http.Response.WriteAsJsonAsync(response, http.RequestAborted);
    }

    static (JsonObject Message, string Finish) Answer(ModelCall call, ToolCallParser? parser) => ResponseJson.AssistantMessage(call.Text, call.FinishReason, parser);

    static JsonObject Chunk(ResponseHeader header, JsonObject delta, string? finish = null) => ResponseJson.ChatChunk(header, 0, delta, finish);

    static IResult Models(HttpContext http, string rolloutId, RemoteRolloutRegistry registry)
    {
        var session = Authorize(http, rolloutId, registry);
        var model = new JsonObject
        {
            ["id"] = session.Model, ["object"] = "model", ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ["owned_by"] = ModelCatalog.Owner,
        };
        return TypedResults.Json(new JsonObject { ["object"] = "list", ["data"] = new JsonArray(model) });
    }

    /// <summary>
    /// A status the agent pushes (<c>{terminated, info, status}</c>): a final one ends the rollout; a body that
    /// is not the protocol's is refused with 400 and ends it as <c>bad_status</c>, as a garbage polled status does.
    /// </summary>
    static async Task<IResult> PushStatusAsync(HttpContext http, string rolloutId, RemoteRolloutRegistry registry)
    {
        var session = Authorize(http, rolloutId, registry);
        var body = await RequestFields.ReadBodyAsync(http.Request, http.RequestAborted, RolloutLogsApi.MaxBodyBytes);
        RolloutStatus status;
        try { status = RolloutStatus.ParseBody(body, terminatedRequired: false); }
        catch (FormatException e)
        {
            session.TryEnd(RolloutEnd.Failed(AgentFailureKinds.BadStatus, $"the agent pushed what is not Eval Protocol's {{terminated, info, status}}: {e.Message}"));
            throw OpenAIError.BadRequest($"Not a rollout status: {e.Message}.", null);
        }
        bool ended = status.IsFinal && session.TryEnd(RolloutEnd.Of(status, $"pushed to /rollouts/{rolloutId}/status"));
        return TypedResults.Json(new JsonObject { ["rollout_id"] = rolloutId, ["ended"] = ended });
    }
}
