namespace Orleans.Rft.Engine.Chat.ToolCalls;

/// <summary>
/// Picks a model's tool-call parser: by name (configuration; vLLM's names), or from the markers its
/// chat template teaches the model. The checks go from the most specific marker to the least:
/// <c>&lt;tool_call&gt;</c> (Hermes, Qwen), <c>[TOOL_CALLS]</c> (Mistral), the pythonic format's own example
/// <c>[func_name1(</c> (Llama 3.2 / 4 pythonic templates), then <c>&lt;|python_tag|&gt;</c> or a
/// <c>"parameters"</c> key (Llama 3.x JSON).
/// </summary>
public static class ToolCallParsers
{
    public static readonly IReadOnlyList<string> Names = ["hermes", "llama3_json", "mistral", "pythonic"];

    public static ToolCallParser Create(string name) => name switch
    {
        "hermes" => new HermesToolCallParser(),
        "llama3_json" => new Llama3JsonToolCallParser(),
        "mistral" => new MistralToolCallParser(),
        "pythonic" => new PythonicToolCallParser(),
        _ => throw new ArgumentException($"tool call parser '{name}' is unknown; use one of {string.Join(", ", Names)}."),
    };

    /// <summary>The parser's name for a chat template's text, or null when the template shows no tool-call format.</summary>
    public static string? DetectName(string? chatTemplate)
    {
        if (string.IsNullOrEmpty(chatTemplate)) return null;
        if (chatTemplate.Contains(HermesToolCallParser.OpenTag, StringComparison.Ordinal)) return "hermes";
        if (chatTemplate.Contains(MistralToolCallParser.Marker, StringComparison.Ordinal)) return "mistral";
        if (chatTemplate.Contains("[func_name1(", StringComparison.Ordinal) || chatTemplate.Contains(PythonicToolCallParser.PythonStart, StringComparison.Ordinal)) return "pythonic";
        if (chatTemplate.Contains(Llama3JsonToolCallParser.PythonTag, StringComparison.Ordinal) || chatTemplate.Contains("\"parameters\"", StringComparison.Ordinal)) return "llama3_json";
        return null;
    }

    /// <summary>
    /// The parser's name for a loaded template: a model's own Jinja template by its text; the built-in
    /// fallbacks by the format they render tool calls in (ChatML writes Hermes' <c>&lt;tool_call&gt;</c>,
    /// Llama 3 its JSON); null when the template shows none.
    /// </summary>
    public static string? DetectName(ChatTemplate template) => template switch
    {
        JinjaChatTemplate jinja => DetectName(jinja.Source),
        ChatMlTemplate => "hermes",
        Llama3Template => "llama3_json",
        _ => null,
    };

    /// <summary>The parser a chat template implies, or null when it shows none (then configure one by name).</summary>
    public static ToolCallParser? FromTemplate(string? chatTemplate) => DetectName(chatTemplate) is string name ? Create(name) : null;
}
