namespace Orleans.Rft.Evaluators;

/// <summary>
/// The OpenAI-compatible endpoint of the silo an evaluator runs on, where a <c>judge</c> without
/// <c>base_url</c> sends its calls: a loopback URL (<c>http://127.0.0.1:{Rft:HttpPort}/v1</c>) and, when the
/// endpoint requires keys, a key it accepts. <see cref="BaseUrl"/> is null where there is none, with
/// <see cref="WhyNone"/> saying why and how to fix it. The key never appears in <see cref="ToString"/>.
/// </summary>
public sealed record ClusterEndpoint(Uri? BaseUrl, string? ApiKey, string WhyNone)
{
    public static ClusterEndpoint Serving(Uri baseUrl, string? apiKey) => new(baseUrl, apiKey, "");

    public static ClusterEndpoint None(string why) => new(null, null, why);

    public override string ToString() => BaseUrl is null ? $"no endpoint ({WhyNone})" : $"{BaseUrl}{(ApiKey is null ? "" : " (with a key)")}";
}
