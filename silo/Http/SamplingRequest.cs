using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Sampling;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// The sampling fields chat and text completions share, read and range-checked at the edge.
/// <see cref="MaxTokens"/> null means "the rest of the context" (vLLM's default). vLLM extras:
/// <c>top_k</c> (-1 or 0 = off), <c>ignore_eos</c>, <c>return_token_ids</c>. <see cref="LogProbs"/> is
/// the number of alternatives per token, null when no log-probs were asked for.
/// </summary>
public sealed record SamplingRequest(
    string Model, int N, int? MaxTokens, double Temperature, double TopP, int TopK, IReadOnlyList<string> Stop,
    long? Seed, int? LogProbs, bool IgnoreEos, bool ReturnTokenIds, bool Stream, bool IncludeUsage)
{
    /// <summary>Choices one request may ask for (<c>n</c> × prompts): a named bound on the fan-out.</summary>
    public const int MaxChoices = 64;
    public const int MaxStopStrings = 16;

    public static SamplingRequest Read(JsonObject body, int? logProbs, string maxTokensField)
    {
        var model = RequestFields.String(body, "model") ?? throw OpenAIError.BadRequest("'model' is required; GET /v1/models lists the served models.", "model");
        var stop = RequestFields.Strings(body, "stop");
        if (stop.Count > MaxStopStrings) throw OpenAIError.BadRequest($"'stop' has {stop.Count} strings; give at most {MaxStopStrings}.", "stop");
        var stream = RequestFields.Bool(body, "stream") ?? false;
        var options = RequestFields.Object(body, "stream_options");
        if (options is not null && !stream) throw OpenAIError.BadRequest("'stream_options' is only allowed with 'stream': true.", "stream_options");
        bool includeUsage = options is not null && (options["include_usage"] is null ? false
            : options["include_usage"] is JsonValue v && v.TryGetValue<bool>(out var b) ? b
            : throw RequestFields.Wrong("stream_options.include_usage", options["include_usage"], "true or false"));
        int topK = RequestFields.Int(body, "top_k", -1, int.MaxValue) ?? 0;
        if (RequestFields.Bool(body, "skip_special_tokens") == false)
            throw OpenAIError.BadRequest("'skip_special_tokens': false is not supported; special tokens are always left out of the text (ask for 'return_token_ids' to see every id).", "skip_special_tokens");
        RequestFields.Unsupported(body, "logit_bias", v => v is JsonObject { Count: 0 }, "leave it out");
        RequestFields.Unsupported(body, "presence_penalty", v => v is JsonValue p && p.TryGetValue<double>(out var d) && d == 0, "leave it out or give 0");
        RequestFields.Unsupported(body, "frequency_penalty", v => v is JsonValue p && p.TryGetValue<double>(out var d) && d == 0, "leave it out or give 0");
        RequestFields.Unsupported(body, "repetition_penalty", v => v is JsonValue p && p.TryGetValue<double>(out var d) && d == 1, "leave it out or give 1");
        return new SamplingRequest(
            model,
            RequestFields.Int(body, "n", 1, MaxChoices) ?? 1,
            RequestFields.Int(body, maxTokensField, 1, int.MaxValue) ?? RequestFields.Int(body, "max_tokens", 1, int.MaxValue),
            RequestFields.Double(body, "temperature", 0, 2) ?? 1.0,
            RequestFields.Double(body, "top_p", 0, 1, minExclusive: true) ?? 1.0,
            topK < 0 ? 0 : topK,
            stop,
            RequestFields.Long(body, "seed", long.MinValue, long.MaxValue),
            logProbs,
            RequestFields.Bool(body, "ignore_eos") ?? false,
            RequestFields.Bool(body, "return_token_ids") ?? false,
            stream,
            includeUsage);
    }

    /// <summary>
    /// The engine's options for choice <paramref name="index"/> of this request: its own row seed
    /// <see cref="SamplingOptions.RowSeed"/>(seed, index) so each choice is reproducible on its own;
    /// unseeded without a seed.
    /// </summary>
    public SamplingOptions Options(int index, int maxTokens) => new(
        Temperature, TopP, TopK, maxTokens, Stop, null,
        Seed is long seed ? SamplingOptions.RowSeed(seed, index) : null,
        IgnoreEos, null, LogProbs);
}
