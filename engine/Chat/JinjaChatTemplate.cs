using System.Text.Json;
using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Chat.Jinja;

namespace Orleans.Rft.Engine.Chat;

/// <summary>
/// The chat template a model ships, rendered as transformers' <c>apply_chat_template</c> renders it
/// (see <see cref="JinjaTemplate"/>): <c>render(messages, tools, documents, add_generation_prompt,
/// **special_tokens, **kwargs)</c>, with tools and documents None when absent and tool-call
/// arguments as objects (vLLM parses OpenAI's JSON strings before rendering; so does
/// <see cref="ChatMessage.ParseList"/>).
/// <para>
/// Assistant output is found without knowing the template: each assistant message k starts where
/// the render of messages[..k] with the generation prompt stops agreeing with the full render, and
/// ends after the first end-of-turn token that follows (the model stops there; the template's "\n"
/// after it is not generated). A template without such a token ends the turn where the render of
/// messages[..k+1] stops agreeing with the full text (or, when a later turn changes how this one
/// renders, as Qwen3 drops old reasoning, where the tail of that render re-joins it). Templates with
/// <c>{% generation %}</c> blocks mark assistant output themselves.
/// </para>
/// </summary>
public sealed class JinjaChatTemplate : ChatTemplate
{
    static readonly string[] KnownEndOfTurn = ["<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<end_of_turn>", "<|end|>", "</s>", "<|endoftext|>", "<|end_of_text|>", "<|END_OF_TURN_TOKEN|>", "<eos>"];

    readonly JinjaTemplate template;
    readonly JinjaTemplate? toolUse;
    readonly Dictionary<string, object?> specialTokens;

    public override string Name => "jinja";
    public override IReadOnlyList<string> EndOfTurnTokens { get; }

    /// <summary>The source of the template used without tools.</summary>
    public string Source => template.Source;

    /// <summary>The clock <c>strftime_now</c> reads (tests pin it).</summary>
    public Func<DateTime> Clock { get; init; } = () => DateTime.Now;

    /// <param name="source">The template text.</param>
    /// <param name="specialTokens">bos_token, eos_token, … as the template sees them.</param>
    /// <param name="toolUseSource">The <c>tool_use</c> named template, rendered when tools are given.</param>
    public JinjaChatTemplate(string source, IReadOnlyDictionary<string, object?>? specialTokens = null, string? toolUseSource = null)
    {
        template = new JinjaTemplate(source);
        toolUse = toolUseSource is null ? null : new JinjaTemplate(toolUseSource);
        this.specialTokens = specialTokens?.ToDictionary(kv => kv.Key, kv => kv.Value) ?? new();
        var eos = this.specialTokens.GetValueOrDefault("eos_token") as string;
        var all = source + toolUseSource;
        EndOfTurnTokens = KnownEndOfTurn.Where(t => all.Contains(t, StringComparison.Ordinal) || t == eos)
            .Concat(eos is not null && !KnownEndOfTurn.Contains(eos) ? [eos] : [])
            .ToList();
    }

    /// <summary>
    /// The template of a model directory: <c>chat_template.jinja</c> when present (transformers saves
    /// it there), else <c>tokenizer_config.json</c>'s <c>chat_template</c>; null when neither has one.
    /// </summary>
    public static JinjaChatTemplate? Load(string modelDirectory)
    {
        var configPath = Path.Combine(modelDirectory, "tokenizer_config.json");
        JsonObject? config = null;
        if (File.Exists(configPath))
        {
            try { config = JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject; }
            catch (JsonException e) { throw new InvalidDataException($"{configPath}: not valid JSON ({e.Message})."); }
        }
        var specials = new Dictionary<string, object?>();
        foreach (var key in new[] { "bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token" })
            if (TokenText(config?[key]) is { } text) specials[key] = text;
        if (config?["additional_special_tokens"] is JsonArray extra)
            specials["additional_special_tokens"] = extra.Select(t => (object?)TokenText(t)).Where(t => t is not null).ToList();

        string? source = null, toolUseSource = null, where;
        var jinjaPath = Path.Combine(modelDirectory, "chat_template.jinja");
        if (File.Exists(jinjaPath))
        {
            source = File.ReadAllText(jinjaPath);
            where = jinjaPath;
        }
        else
        {
            where = $"{configPath}: chat_template";
            switch (config?["chat_template"])
            {
                case null: return null;
                case JsonValue v when v.GetValueKind() == JsonValueKind.String: source = v.GetValue<string>(); break;
                case JsonArray named:
                    foreach (var entry in named)
                    {
                        var name = entry?["name"]?.GetValue<string>();
                        var text = entry?["template"]?.GetValue<string>();
                        if (name == "default") source = text;
                        else if (name == "tool_use") toolUseSource = text;
                    }
                    source ??= toolUseSource ?? throw new InvalidDataException($"{where}: the list of named templates has no 'default' (names: {string.Join(", ", named.Select(e => e?["name"]))}).");
                    break;
                default: throw new InvalidDataException($"{where}: must be a string or a list of {{name, template}}.");
            }
        }
        try { return new JinjaChatTemplate(source!, specials, toolUseSource); }
        catch (JinjaException e) { throw new InvalidDataException($"{where}: the template does not parse: {e.Message}"); }
    }

    /// <summary>A special token as tokenizer_config.json writes it: a string or an AddedToken <c>{"content": …}</c>.</summary>
    static string? TokenText(JsonNode? node) => node switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonObject o when o["content"] is JsonValue c && c.GetValueKind() == JsonValueKind.String => c.GetValue<string>(),
        _ => null,
    };

    public override IReadOnlyList<ChatSegment> Render(IReadOnlyList<ChatMessage> messages, IReadOnlyList<JsonObject>? tools, bool addGenerationPrompt) =>
        Render(messages, tools, addGenerationPrompt, null);

    /// <summary>The prompt text alone: one render, no search for assistant spans.</summary>
    public override string RenderText(IReadOnlyList<ChatMessage> messages, IReadOnlyList<JsonObject>? tools = null, bool addGenerationPrompt = true, IEnumerable<KeyValuePair<string, JsonNode?>>? kwargs = null)
    {
        var chosen = tools is { Count: > 0 } && toolUse is not null ? toolUse : template;
        return RenderWith(chosen, BaseContext(tools, kwargs), messages.Select(ToPython).ToList(), addGenerationPrompt, out _);
    }

    public override IReadOnlyList<ChatSegment> Render(IReadOnlyList<ChatMessage> messages, IReadOnlyList<JsonObject>? tools, bool addGenerationPrompt, IEnumerable<KeyValuePair<string, JsonNode?>>? kwargs)
    {
        var chosen = tools is { Count: > 0 } && toolUse is not null ? toolUse : template;
        var context = BaseContext(tools, kwargs);
        var all = messages.Select(ToPython).ToList();
        var full = RenderWith(chosen, context, all, addGenerationPrompt, out var generation);
        var spans = chosen.HasGenerationMarkers ? generation : AssistantSpans(chosen, context, messages, all, full, addGenerationPrompt);
        var segments = new List<ChatSegment>();
        int at = 0;
        foreach (var (start, end) in spans.OrderBy(s => s.Start))
        {
            if (start < at || end <= start) continue;
            if (start > at) segments.Add(new(full[at..start], false));
            segments.Add(new(full[start..end], true));
            at = end;
        }
        if (at < full.Length || segments.Count == 0) segments.Add(new(full[at..], false));
        return segments;
    }

    List<(int Start, int End)> AssistantSpans(JinjaTemplate chosen, Dictionary<string, object?> context, IReadOnlyList<ChatMessage> messages, List<object?> all, string full, bool addGenerationPrompt)
    {
        var spans = new List<(int, int)>();
        for (int k = 0; k < messages.Count; k++)
        {
            if (messages[k].Role != "assistant") continue;
            var before = RenderWith(chosen, context, all.GetRange(0, k), true, out _);
            int start = CommonPrefix(full, before);
            if (start < before.Length && !full.StartsWith(RenderWith(chosen, context, all.GetRange(0, k), false, out _), StringComparison.Ordinal))
            {
                // Earlier turns render differently once this one follows (Mistral moves the system
                // prompt into the last user turn), so the prefix render does not locate this turn.
                if (Marked(chosen, context, all, k, full, addGenerationPrompt) is { } content)
                {
                    // The spaces a template puts before the text are generated with it (Mistral's
                    // " " + content is one "▁word" token), so they start the span.
                    start = content.Start;
                    while (start > 0 && full[start - 1] == ' ') start--;
                }
                else if (k > 0 && Marked(chosen, context, all, k - 1, full, addGenerationPrompt) is { } previous
                         && all[k - 1] is Dictionary<string, object?> { } pm && pm["content"] is string prevText)
                {
                    // A turn whose text the template does not print (a tool call): start after the
                    // previous message's text and the prompt text that follows it in the prefix render.
                    int inBefore = before.LastIndexOf(prevText, StringComparison.Ordinal);
                    start = previous.End + (inBefore < 0 ? 0 : full.AsSpan(previous.End).CommonPrefixLength(before.AsSpan(inBefore + prevText.Length)));
                }
            }
            // The turn ends at its first end-of-turn token; only a template without one needs the
            // render of messages[..k+1] to tell where the turn stops.
            int end = FirstEndOfTurn(full, start);
            if (end < 0)
            {
                var upTo = RenderWith(chosen, context, all.GetRange(0, k + 1), false, out _);
                int diverge = CommonPrefix(full, upTo);
                end = diverge;
                if (diverge < upTo.Length)
                {
                    // A later turn changed how this one renders: keep the longest run of the full
                    // text at the divergence that is also the end of this turn's own render.
                    var tail = upTo.AsSpan(diverge);
                    for (int n = Math.Min(tail.Length, full.Length - diverge); n > 0; n--)
                        if (tail.EndsWith(full.AsSpan(diverge, n))) { end = diverge + n; break; }
                }
            }
            if (end > start) spans.Add((start, end));
        }
        return spans;
    }

    /// <summary>
    /// Where message k's text lies in <paramref name="full"/>: the first and last differences between
    /// the full render and a render with markers around that text. Null when the template does not
    /// print it.
    /// </summary>
    (int Start, int End)? Marked(JinjaTemplate chosen, Dictionary<string, object?> context, List<object?> all, int k, string full, bool addGenerationPrompt)
    {
        if (all[k] is not Dictionary<string, object?> message || message["content"] is not string { Length: > 0 } content) return null;
        var marked = new List<object?>(all);
        marked[k] = new Dictionary<string, object?>(message) { ["content"] = "\u2063" + content + "\u2063" };
        var other = RenderWith(chosen, context, marked, addGenerationPrompt, out _);
        int start = CommonPrefix(full, other);
        if (start >= full.Length) return null;
        int suffix = 0, limit = Math.Min(full.Length, other.Length) - start;
        while (suffix < limit && full[full.Length - 1 - suffix] == other[other.Length - 1 - suffix]) suffix++;
        int end = full.Length - suffix;
        return (start, Math.Max(start, end));
    }

    /// <summary>The position just after the first end-of-turn token at or after <paramref name="start"/>; -1 when none follows.</summary>
    int FirstEndOfTurn(string full, int start)
    {
        int at = -1, end = -1;
        foreach (var token in EndOfTurnTokens)
        {
            int i = full.IndexOf(token, start, StringComparison.Ordinal);
            if (i >= 0 && (at < 0 || i < at)) (at, end) = (i, i + token.Length);
        }
        return end;
    }

    static int CommonPrefix(string a, string b)
    {
        int n = a.AsSpan().CommonPrefixLength(b.AsSpan());
        return n;
    }

    Dictionary<string, object?> BaseContext(IReadOnlyList<JsonObject>? tools, IEnumerable<KeyValuePair<string, JsonNode?>>? kwargs)
    {
        // transformers: render(messages=, tools=, documents=, add_generation_prompt=, **special_tokens, **kwargs);
        // RAG documents come in as the kwarg "documents" (a list of {title, text}), None otherwise.
        var context = new Dictionary<string, object?>(specialTokens) { ["documents"] = null };
        if (kwargs is not null) foreach (var (key, value) in kwargs) context[key] = JinjaTemplate.FromJson(value);
        context["tools"] = tools is { Count: > 0 } ? tools.Select(t => JinjaTemplate.FromJson(t)).ToList() : null;
        return context;
    }

    string RenderWith(JinjaTemplate chosen, Dictionary<string, object?> context, List<object?> messages, bool addGenerationPrompt, out IReadOnlyList<(int Start, int End)> generation)
    {
        context["messages"] = messages;
        context["add_generation_prompt"] = addGenerationPrompt;
        return chosen.Render(context, Clock, out generation);
    }

    /// <summary>A message as the template sees it (keys in this order, optional ones only when set; the reference script does the same).</summary>
    static object? ToPython(ChatMessage m)
    {
        var d = new Dictionary<string, object?> { ["role"] = m.Role, ["content"] = m.Content };
        if (m.ReasoningContent is not null) d["reasoning_content"] = m.ReasoningContent;
        if (m.ToolCalls is not null)
            d["tool_calls"] = m.ToolCalls.Select(c => (object?)new Dictionary<string, object?>
            {
                ["id"] = c.Id,
                ["type"] = "function",
                ["function"] = new Dictionary<string, object?> { ["name"] = c.Name, ["arguments"] = JinjaTemplate.FromJson(c.Arguments) },
            }).ToList();
        if (m.ToolCallId is not null) d["tool_call_id"] = m.ToolCallId;
        if (m.Name is not null) d["name"] = m.Name;
        return d;
    }
}
