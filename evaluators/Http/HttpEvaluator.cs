using System.Text.Json.Nodes;

namespace Orleans.Rft.Evaluators.Http;

/// <summary>
/// <c>http</c>: a grader behind a URL. Each rollout is POSTed as <c>{messages, completion, ground_truth,
/// row}</c> (a group as <c>{messages_list, completions, ground_truth, row}</c> with <c>groupwise: true</c>);
/// <c>messages</c> is the prompt and what the rollout added (<see cref="RolloutConversation"/>: an agent's
/// whole trajectory, tool calls and results included);
/// the answer is an <c>EvaluateResult</c> object or a list of them, one per rollout. At most
/// <c>max_concurrency</c> requests are open per evaluator; each call, retries included, ends within
/// <c>timeout_seconds</c> (<see cref="RetryingPost"/>). Header values may be <c>${ENV:NAME}</c>.
/// </summary>
public sealed class HttpEvaluator(Uri url, IReadOnlyDictionary<string, string> headers, TimeSpan timeout, int maxConcurrency, bool groupwise) : IGroupEvaluator
{
    readonly SemaphoreSlim open = new(maxConcurrency);

    public string Type => "http";
    public bool IsAsynchronous => true;
    public bool Groupwise => groupwise;

    public static HttpEvaluator From(SpecReader r) => new(
        RetryingPost.Url(r.RequiredString("url"), r.At("url")),
        EnvironmentHeaders.Resolve(r.Object("headers"), r.At("headers")),
        TimeSpan.FromSeconds(r.Double("timeout_seconds", 30, min: 0.1, max: 30)),
        r.Int("max_concurrency", 8, min: 1, max: 1024),
        r.Bool("groupwise", false));

    public async Task<EvaluationResult> EvaluateAsync(EvaluationInput input, CancellationToken cancellation)
    {
        if (groupwise) return (await EvaluateGroupAsync([input], cancellation))[0];
        var body = new JsonObject
        {
            ["messages"] = RolloutConversation.Messages(input), ["completion"] = input.Completion,
            ["ground_truth"] = input.GroundTruth?.DeepClone(), ["row"] = input.Row.DeepClone(),
        };
        var results = await Post(body, 1, cancellation);
        return results[0];
    }

    public async Task<IReadOnlyList<EvaluationResult>> EvaluateGroupAsync(IReadOnlyList<EvaluationInput> group, CancellationToken cancellation)
    {
        if (!groupwise) return await Task.WhenAll(group.Select(i => EvaluateAsync(i, cancellation)));
        var body = new JsonObject
        {
            ["messages_list"] = new JsonArray(group.Select(i => (JsonNode?)RolloutConversation.Messages(i)).ToArray()),
            ["completions"] = new JsonArray(group.Select(i => (JsonNode?)JsonValue.Create(i.Completion)).ToArray()),
            ["ground_truth"] = group[0].GroundTruth?.DeepClone(), ["row"] = group[0].Row.DeepClone(),
        };
        return await Post(body, group.Count, cancellation);
    }

    async Task<IReadOnlyList<EvaluationResult>> Post(JsonObject body, int count, CancellationToken cancellation)
    {
        await open.WaitAsync(cancellation);
        string text;
        try { text = await RetryingPost.PostAsync(url, body, headers, timeout, "grader", cancellation); }
        catch (HttpEvaluatorException e) { return Enumerable.Repeat(EvaluationResult.Invalid(e.Message), count).ToList(); }
        finally { open.Release(); }
        JsonNode? answer;
        try { answer = JsonNode.Parse(text); }
        catch (System.Text.Json.JsonException) { return Enumerable.Repeat(EvaluationResult.Invalid($"the grader's answer is not JSON: {RetryingPost.Short(text)}"), count).ToList(); }
        var items = answer as JsonArray ?? (count == 1 && answer is JsonObject ? new JsonArray(answer.DeepClone()) : null);
        if (items is null || items.Count != count)
            return Enumerable.Repeat(EvaluationResult.Invalid($"the grader must answer {(count == 1 ? "an EvaluateResult object" : $"a list of {count} EvaluateResult objects")}; it answered {RetryingPost.Short(text)}"), count).ToList();
        return items.Select(EvaluationResult.FromJson).ToList();
    }
}
