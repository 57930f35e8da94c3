using System.Text.Json.Nodes;
using Orleans.Rft.Evaluators.Http;

namespace Orleans.Rft.Evaluators.Judge;

/// <summary>
/// <c>judge</c>: a language model grades the rollout through any OpenAI-compatible server
/// (<c>POST {base_url}/chat/completions</c>). The prompt template (<see cref="JudgePrompt"/>) is sent as
/// one user message; the answer is read as a number or JSON (<see cref="JudgeAnswer"/>) and scaled from
/// <c>score_range</c> to [0, 1]. <c>groupwise: true</c> asks for all of a prompt's rollouts to be scored
/// in one call. The key comes from the environment variable <c>api_key_env</c> names, never the spec.
/// Without <c>base_url</c> the judge calls the silo's own endpoint (<see cref="ClusterEndpoint"/>), where
/// <c>model</c> names any model it serves. An agent rollout's response is its whole transcript (turns,
/// tool calls, tool results: <see cref="RolloutConversation.Response"/>), so the judge grades how it got there. Calls retry like the http evaluator's and are bounded by <c>max_concurrency</c> and <c>timeout_seconds</c>.
/// </summary>
public sealed class JudgeEvaluator(Uri? endpoint, string model, IReadOnlyDictionary<string, string> headers, JudgePrompt prompt,
    double min, double max, bool json, double temperature, int maxTokens, TimeSpan timeout, int maxConcurrency, bool groupwise) : IGroupEvaluator
{
    readonly SemaphoreSlim open = new(maxConcurrency);

    public string Type => "judge";
    public bool IsAsynchronous => true;
    public bool Groupwise => groupwise;

    /// <param name="cluster">
    /// where a judge without <c>base_url</c> calls: the silo's own endpoint, or none with the reason (a
    /// spec error then). Null where the spec is only checked and will be built again on a silo
    /// (<c>rft submit</c>): the evaluator is built without an endpoint and answers every call invalid.
    /// </param>
    public static JudgeEvaluator From(SpecReader r, ClusterEndpoint? cluster)
    {
        var model = r.RequiredString("model");
        var headers = new Dictionary<string, string>();
        Uri? endpoint;
        if (r.String("base_url") is string baseUrl)
        {
            endpoint = RetryingPost.Url(baseUrl.TrimEnd('/') + "/chat/completions", r.At("base_url"));
            if (r.String("api_key_env") is string env) headers["Authorization"] = "Bearer " + EnvironmentHeaders.Variable(env, r.At("api_key_env"));
        }
        else
        {
            // The cluster's own endpoint serves `model` by any name it lists (a base folder's name, an alias,
            // a deployed name, jobs/{id}); its key is the silo's, so api_key_env has no use here.
            if (r.String("api_key_env") is not null)
                throw new SpecException(r.At("api_key_env"), "is for a judge at base_url; without base_url the judge calls this cluster's own endpoint, which needs no key from the spec. Remove api_key_env or give base_url.");
            if (cluster is { BaseUrl: null })
                throw new SpecException(r.At("base_url"), $"is omitted, so the judge would call this cluster's own endpoint, but {cluster.WhyNone}. Give base_url (an OpenAI-compatible server, e.g. http://host:8000/v1) or serve HTTP on the silo (Rft:HttpPort).");
            endpoint = cluster is null ? null : new Uri(cluster.BaseUrl!.ToString().TrimEnd('/') + "/chat/completions");
            if (cluster?.ApiKey is string key) headers["Authorization"] = "Bearer " + key;
        }
        var range = r.Raw("score_range") switch
        {
            null => [0.0, 10.0],
            JsonArray a when a.Count == 2 && a.All(x => x is JsonValue v && v.TryGetValue<double>(out _)) => a.Select(x => x!.GetValue<double>()).ToArray(),
            _ => throw new SpecException(r.At("score_range"), "must be [low, high], two numbers (e.g. [0, 10])."),
        };
        if (!(range[1] > range[0])) throw new SpecException(r.At("score_range"), $"[{range[0]}, {range[1]}] is empty; the high end must be above the low end.");
        var parse = r.String("parse", "number");
        if (parse is not ("number" or "json")) throw new SpecException(r.At("parse"), $"'{parse}' must be 'number' or 'json'.");
        var groupwise = r.Bool("groupwise", false);
        var prompt = new JudgePrompt(r.String("prompt") ?? (groupwise ? JudgePrompt.DefaultGroupwise : JudgePrompt.DefaultPointwise), r.At("prompt"));
        if (groupwise && !prompt.Fields.Contains("completions"))
            throw new SpecException(r.At("prompt"), "a groupwise judge's prompt must show the responses with {completions}.");
        if (!groupwise && prompt.Fields.Contains("completions"))
            throw new SpecException(r.At("prompt"), "{completions} is for groupwise judges; use {completion}, or set groupwise: true.");
        return new JudgeEvaluator(endpoint, model, headers, prompt, range[0], range[1], parse == "json",
            r.Double("temperature", 0, min: 0, max: 2), r.Int("max_tokens", 512, min: 1, max: 32768),
            TimeSpan.FromSeconds(r.Double("timeout_seconds", 30, min: 0.1, max: 30)), r.Int("max_concurrency", 8, min: 1, max: 1024), groupwise);
    }

    public async Task<EvaluationResult> EvaluateAsync(EvaluationInput input, CancellationToken cancellation)
    {
        if (groupwise) return (await EvaluateGroupAsync([input], cancellation))[0];
        var text = prompt.Render(input.Row, input.GroundTruth, [RolloutConversation.Response(input)], min, max, out var missing);
        if (missing is not null) return EvaluationResult.Invalid($"the judge prompt names {{{missing}}}, which this row lacks");
        return await Ask(text, cancellation) switch
        {
            (null, var failure) => EvaluationResult.Invalid(failure!),
            (var answer, _) => JudgeAnswer.Pointwise(answer, json, min, max),
        };
    }

    public async Task<IReadOnlyList<EvaluationResult>> EvaluateGroupAsync(IReadOnlyList<EvaluationInput> group, CancellationToken cancellation)
    {
        if (!groupwise) return await Task.WhenAll(group.Select(i => EvaluateAsync(i, cancellation)));
        var text = prompt.Render(group[0].Row, group[0].GroundTruth, group.Select(RolloutConversation.Response).ToList(), min, max, out var missing);
        if (missing is not null) return group.Select(_ => EvaluationResult.Invalid($"the judge prompt names {{{missing}}}, which this row lacks")).ToList();
        var (answer, failure) = await Ask(text, cancellation);
        return answer is null ? group.Select(_ => EvaluationResult.Invalid(failure!)).ToList() : JudgeAnswer.Groupwise(answer, group.Count, min, max);
    }

    /// <summary>The judge's text, or why there is none.</summary>
    async Task<(string? Answer, string? Failure)> Ask(string text, CancellationToken cancellation)
    {
        var body = new JsonObject
        {
            ["model"] = model, ["temperature"] = temperature, ["max_tokens"] = maxTokens,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = text }),
        };
        if (endpoint is null) return (null, "the judge has no base_url and this process is no silo with an endpoint to call; a silo fills in its own (Rft:HttpPort)");
        await open.WaitAsync(cancellation);
        string raw;
        try { raw = await RetryingPost.PostAsync(endpoint, body, headers, timeout, "judge", cancellation); }
        catch (HttpEvaluatorException e) { return (null, e.Message); }
        finally { open.Release(); }
        try
        {
            if (JsonNode.Parse(raw)?["choices"]?[0]?["message"]?["content"] is JsonValue v && v.TryGetValue<string>(out var content)) return (content, null);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException) { }
        return (null, $"the judge's server did not answer in the chat completions shape (choices[0].message.content): {RetryingPost.Short(raw)}");
    }
}
