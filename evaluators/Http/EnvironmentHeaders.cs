using System.Text.RegularExpressions;

namespace Orleans.Rft.Evaluators.Http;

/// <summary>
/// Request headers from a spec, where <c>${ENV:NAME}</c> stands for the environment variable NAME of the
/// process that runs the evaluator (the silo): secrets stay out of the job spec, which is stored and
/// shown. Values are resolved once, when the evaluator is built, and never appear in a message.
/// </summary>
public static partial class EnvironmentHeaders
{
    [GeneratedRegex(@"\$\{ENV:([A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex Reference();

    /// <summary>The headers with every reference resolved; a missing variable is a spec error naming the header and the variable, never the value.</summary>
    public static IReadOnlyDictionary<string, string> Resolve(System.Text.Json.Nodes.JsonObject? headers, string at)
    {
        var resolved = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (headers is null) return resolved;
        var reader = new SpecReader(headers, at);
        foreach (var (name, _) in headers)
        {
            var template = reader.String(name)!;
            resolved[name] = Reference().Replace(template, m =>
                Environment.GetEnvironmentVariable(m.Groups[1].Value) is { Length: > 0 } value
                    ? value
                    : throw new SpecException($"{at}.{name}", $"refers to the environment variable {m.Groups[1].Value}, which is not set where the evaluator runs; set it on the silos (and where you submit)."));
        }
        return resolved;
    }

    /// <summary>An environment variable's value, for a spec key naming one (<c>api_key_env</c>); a missing one is a spec error.</summary>
    public static string Variable(string name, string at) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new SpecException(at, $"names the environment variable {name}, which is not set where the evaluator runs; set it on the silos (and where you submit).");
}
