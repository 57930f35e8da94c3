using System.Text.Json.Nodes;
using Orleans.Rft.Evaluators.Http;

namespace Orleans.Rft.Evaluators.Judge;

/// <summary>
/// <c>judge</c>: a language model grades the rollout through any OpenAI-compatible server
/// (<c>POST {base_url}/chat/completions</c>). The prompt template (<see cref="JudgePrompt"/>) is sent as
/// one user message; the answer is read as a number or JSON (<see cref="JudgeAnswer"/>) and scaled from
/// <c>score_range</c> to [0, 1]. <c>groupwise: true</c> asks for all of a prompt's rollouts to be scored
/// in one call. The key comes from the environment variable <c>api_key_env</c> names, never the spec.
/// Calls retry like the http evaluator's and are bounded by <c>max_concurrency</c> and <c>timeout_seconds</c>.
/// </summary>
public sealed class JudgeEvaluator(Uri endpoint, string model, IReadOnlyDictionary<string, string> headers, JudgePrompt prompt,
    double min, double max, bool json, double temperature, int maxTokens, TimeSpan timeout, int maxConcurrency, bool groupwise) : IGroupEvaluator
{
    readonly SemaphoreSlim open = new(maxConcurrency);

    public string Type => "judge";
    public bool Groupwise => groupwise;

    public static JudgeEvaluator From(SpecReader r)
    {
        var baseUrl = r.String("base_url") ?? throw new SpecException(r.At("base_url"),
            "is required for now: the URL of an OpenAI-compatible server (e.g. http://localhost:8000/v1). Judging with the cluster's own served model when base_url is omitted comes with model serving.");
        var endpoint = RetryingPost.Url(baseUrl.TrimEnd('/') + "/chat/completions", r.At("base_url"));
        var model = r.RequiredString("model");
        var headers = new Dictionary<string, string>();
        if (r.String("api_key_env") is string env) headers["Authorization"] = "Bearer " + EnvironmentHeaders.Variable(env, r.At("api_key_env"));
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
        var text = prompt.Render(input.Row, input.GroundTruth, [input.Completion], min, max, out var missing);
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
        var text = prompt.Render(group[0].Row, group[0].GroundTruth, group.Select(i => i.Completion).ToList(), min, max, out var missing);
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
