using System.Text;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Evaluators.Judge;

/// <summary>
/// A judge prompt template: <c>{question}</c> (the row's last user message), <c>{completion}</c> (the
/// response; an agent rollout's whole transcript),
/// <c>{ground_truth}</c>, <c>{completions}</c> (groupwise: the numbered responses), <c>{min}</c>/<c>{max}</c>
/// (the score range) and any top-level row field by name; <c>{{</c> and <c>}}</c> are literal braces.
/// Parsed once when the evaluator is built, so a malformed template is a spec error.
/// </summary>
public sealed class JudgePrompt
{
    readonly List<(string Text, string? Field)> parts = new();

    public IReadOnlyCollection<string> Fields => parts.Where(p => p.Field is not null).Select(p => p.Field!).ToHashSet();

    public const string DefaultPointwise = """
        You are grading a response to a question.

        Question:
        {question}

        Reference answer:
        {ground_truth}

        Response:
        {completion}

        How correct and helpful is the response, judged against the reference? Answer with only a number from {min} to {max}.
        """;

    public const string DefaultGroupwise = """
        You are ranking several responses to one question.

        Question:
        {question}

        Reference answer:
        {ground_truth}

        Responses:
        {completions}

        Score every response from {min} (worst) to {max} (best), comparing them with each other and with the reference.
        Answer with only JSON: {{"scores": [one number per response, in order]}}
        """;

    public JudgePrompt(string template, string at)
    {
        var text = new StringBuilder();
        for (int i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if (c == '{' && i + 1 < template.Length && template[i + 1] == '{') { text.Append('{'); i++; continue; }
            if (c == '}' && i + 1 < template.Length && template[i + 1] == '}') { text.Append('}'); i++; continue; }
            if (c == '}') throw new SpecException(at, $"has a lone '}}' at character {i}; write '}}}}' for a literal brace.");
            if (c != '{') { text.Append(c); continue; }
            var end = template.IndexOf('}', i);
            var name = end < 0 ? "" : template[(i + 1)..end].Trim();
            if (end < 0 || name.Length == 0 || !name.All(ch => char.IsLetterOrDigit(ch) || ch == '_'))
                throw new SpecException(at, $"has '{{' at character {i} that does not start a {{field}}; write '{{{{' for a literal brace.");
            parts.Add((text.ToString(), null));
            text.Clear();
            parts.Add(("", name));
            i = end;
        }
        parts.Add((text.ToString(), null));
    }

    /// <summary>The prompt for one rollout or one group, or the reason it cannot be rendered (a row field the row lacks).</summary>
    public string Render(JsonObject row, JsonNode? groundTruth, IReadOnlyList<string> completions, double min, double max, out string? missing)
    {
        missing = null;
        var text = new StringBuilder();
        foreach (var (literal, field) in parts)
        {
            text.Append(literal);
            if (field is null) continue;
            var value = field switch
            {
                "question" => Question(row),
                "completion" => completions[0],
                "completions" => string.Join("\n\n", completions.Select((c, i) => $"Response {i + 1}:\n{c}")),
                "ground_truth" => AsText(groundTruth),
                "min" => min.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "max" => max.ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => row.ContainsKey(field) ? AsText(row[field]) : null,
            };
            if (value is null) { missing = field; return ""; }
            text.Append(value);
        }
        return text.ToString();
    }

    static string Question(JsonObject row) =>
        (row["messages"] as JsonArray)?.LastOrDefault(m => m?["role"]?.GetValue<string>() == "user")?["content"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";

    static string AsText(JsonNode? node) => node switch
    {
        null => "",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => node.ToJsonString(),
    };
}
