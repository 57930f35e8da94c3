using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Engine.Chat.Jinja;

/// <summary>
/// A parsed Jinja template, rendered with the environment transformers uses for chat templates
/// (<c>ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])</c>
/// plus its <c>tojson</c>, <c>raise_exception</c> and <c>strftime_now</c>). Parse once, render many times.
/// </summary>
public sealed class JinjaTemplate
{
    readonly IReadOnlyList<JinjaNode> body;

    public string Source { get; }

    /// <summary>True when the template marks assistant output with <c>{% generation %}</c>.</summary>
    public bool HasGenerationMarkers { get; }

    public JinjaTemplate(string source)
    {
        Source = source;
        body = JinjaParser.Parse(source);
        HasGenerationMarkers = source.Contains("generation", StringComparison.Ordinal) && ContainsGeneration(body);
    }

    public string Render(IReadOnlyDictionary<string, object?> context, Func<DateTime>? now = null) =>
        JinjaRenderer.Render(body, context, now, out _);

    public string Render(IReadOnlyDictionary<string, object?> context, Func<DateTime>? now, out IReadOnlyList<(int Start, int End)> generationSpans) =>
        JinjaRenderer.Render(body, context, now, out generationSpans);

    /// <summary>JSON as the Python value <c>json.loads</c> would give: objects to dicts, integers to int, other numbers to float.</summary>
    public static object? FromJson(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => o.ToDictionary(kv => kv.Key, kv => FromJson(kv.Value)),
        JsonArray a => a.Select(FromJson).ToList(),
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Null => null,
            _ => Number(v.ToJsonString()),
        },
        _ => null,
    };

    /// <summary>Python's json: a number written without '.', 'e' or 'E' is an int, else a float.</summary>
    static object Number(string text) =>
        text.AsSpan().IndexOfAny(".eE") < 0 && long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var l)
            ? (object)l
            : double.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    static bool ContainsGeneration(IEnumerable<JinjaNode> nodes) => nodes.Any(n => n switch
    {
        GenerationNode => true,
        IfNode i => i.Branches.Any(b => ContainsGeneration(b.Body)) || (i.Else is not null && ContainsGeneration(i.Else)),
        ForNode f => ContainsGeneration(f.Body) || (f.Else is not null && ContainsGeneration(f.Else)),
        MacroNode m => ContainsGeneration(m.Body),
        SetBlockNode s => ContainsGeneration(s.Body),
        CallBlockNode c => ContainsGeneration(c.Body),
        FilterBlockNode fb => ContainsGeneration(fb.Body),
        _ => false,
    });
}
