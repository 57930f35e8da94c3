using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Tokenization;

namespace Orleans.Rft.Engine.Chat;

/// <summary>A piece of a rendered conversation; <see cref="Trainable"/> marks assistant output.</summary>
public sealed record ChatSegment(string Text, bool Trainable);

/// <summary>A conversation as token ids, with a loss mask that is 1 on assistant output only.</summary>
public sealed record EncodedChat(int[] Ids, bool[] TrainableMask);

/// <summary>
/// Renders a conversation the way the model's own chat template does, as segments so that the
/// trainer knows which tokens the assistant produced. <see cref="JinjaChatTemplate"/> renders the
/// template the model ships; <see cref="ChatMlTemplate"/> and <see cref="Llama3Template"/> remain
/// for model directories without any template.
/// </summary>
public abstract class ChatTemplate
{
    public abstract string Name { get; }

    /// <summary>Tokens that end an assistant turn (added to the sampler's stop ids).</summary>
    public abstract IReadOnlyList<string> EndOfTurnTokens { get; }

    public abstract IReadOnlyList<ChatSegment> Render(IReadOnlyList<ChatMessage> messages, IReadOnlyList<JsonObject>? tools, bool addGenerationPrompt);

    /// <summary>
    /// Renders with template kwargs (<c>enable_thinking</c>, <c>date_string</c>…, the job's
    /// <c>inference.chat_template_kwargs</c>: a <see cref="JsonObject"/> or any dictionary of JSON
    /// values); templates that read none ignore them.
    /// </summary>
    public virtual IReadOnlyList<ChatSegment> Render(IReadOnlyList<ChatMessage> messages, IReadOnlyList<JsonObject>? tools, bool addGenerationPrompt, IEnumerable<KeyValuePair<string, JsonNode?>>? kwargs) =>
        Render(messages, tools, addGenerationPrompt);

    public virtual string RenderText(IReadOnlyList<ChatMessage> messages, IReadOnlyList<JsonObject>? tools = null, bool addGenerationPrompt = true, IEnumerable<KeyValuePair<string, JsonNode?>>? kwargs = null) =>
        string.Concat(Render(messages, tools, addGenerationPrompt, kwargs).Select(s => s.Text));

    /// <summary>
    /// Token ids of the whole rendered text (exactly what encoding the prompt string gives) and a
    /// mask over them. The mask comes from encoding segment by segment when that yields the same
    /// ids (segment boundaries where the tokenizer splits anyway: the usual case); otherwise each
    /// boundary is placed after the whole text's tokens that lie entirely before it (the common
    /// prefix with the ids of the text before it, then whole tokens whose text still fits), so a
    /// token that straddles a boundary counts as the later segment's.
    /// </summary>
    public EncodedChat Encode(TextTokenizer tokenizer, IReadOnlyList<ChatMessage> messages, IReadOnlyList<JsonObject>? tools = null, bool addGenerationPrompt = true, IEnumerable<KeyValuePair<string, JsonNode?>>? kwargs = null)
    {
        var segments = Render(messages, tools, addGenerationPrompt, kwargs);
        var ids = new List<int>();
        var mask = new List<bool>();
        foreach (var segment in segments)
        {
            var part = tokenizer.Encode(segment.Text);
            ids.AddRange(part);
            mask.AddRange(Enumerable.Repeat(segment.Trainable, part.Length));
        }
        if (segments.Count <= 1) return new EncodedChat(ids.ToArray(), mask.ToArray());
        var text = string.Concat(segments.Select(s => s.Text));
        var whole = tokenizer.Encode(text);
        if (whole.AsSpan().SequenceEqual(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(ids)))
            return new EncodedChat(whole, mask.ToArray());
        return new EncodedChat(whole, MaskByPrefixes(tokenizer, segments, whole));
    }

    static bool[] MaskByPrefixes(TextTokenizer tokenizer, IReadOnlyList<ChatSegment> segments, int[] whole)
    {
        var mask = new bool[whole.Length];
        var text = string.Concat(segments.Select(x => x.Text));
        int chars = 0, tokenStart = 0;
        for (int s = 0; s < segments.Count; s++)
        {
            chars += segments[s].Text.Length;
            int tokenEnd = whole.Length;
            if (s + 1 < segments.Count)
            {
                var prefix = tokenizer.Encode(text[..chars]);
                tokenEnd = 0;
                while (tokenEnd < prefix.Length && tokenEnd < whole.Length && prefix[tokenEnd] == whole[tokenEnd]) tokenEnd++;
                // Whole-text tokens that still lie entirely before the boundary (the prefix's own
                // encoding merged them differently at its end) belong to this segment too.
                int consumed = tokenizer.Decode(whole.Take(tokenEnd)).Length;
                while (tokenEnd < whole.Length)
                {
                    var piece = tokenizer.Decode([whole[tokenEnd]]);
                    if (piece.Length == 0 || consumed + piece.Length > chars || string.CompareOrdinal(text, consumed, piece, 0, piece.Length) != 0) break;
                    consumed += piece.Length;
                    tokenEnd++;
                }
                tokenEnd = Math.Max(tokenEnd, tokenStart);
            }
            for (int i = tokenStart; i < tokenEnd; i++) mask[i] = segments[s].Trainable;
            tokenStart = tokenEnd;
        }
        return mask;
    }

    /// <summary>
    /// The model's own Jinja template when its directory has one (<c>chat_template.jinja</c>, or
    /// <c>tokenizer_config.json</c>'s <c>chat_template</c>: a string or named templates); otherwise
    /// a hand-written renderer picked by which special tokens the tokenizer knows.
    /// </summary>
    public static ChatTemplate Detect(string modelDirectory, TextTokenizer tokenizer)
    {
        if (JinjaChatTemplate.Load(modelDirectory) is { } jinja) return jinja;
        if (tokenizer.TokenToId("<|im_start|>") is not null) return new ChatMlTemplate();
        if (tokenizer.TokenToId("<|start_header_id|>") is not null) return new Llama3Template();
        throw new NotSupportedException(
            $"{modelDirectory}: no chat template: tokenizer_config.json has no 'chat_template', there is no chat_template.jinja, and the tokenizer has neither ChatML (<|im_start|>) nor Llama-3 (<|start_header_id|>) tokens. Add the model's chat template to tokenizer_config.json.");
    }
}
