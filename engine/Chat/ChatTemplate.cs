using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Tokenization;

namespace Orleans.Rft.Engine.Chat;

/// <summary>A piece of a rendered conversation; <see cref="Trainable"/> marks assistant output.</summary>
public sealed record ChatSegment(string Text, bool Trainable);

/// <summary>A conversation as token ids, with a loss mask that is 1 on assistant output only.</summary>
public sealed record EncodedChat(int[] Ids, bool[] TrainableMask);

/// <summary>
/// Renders a conversation the way the model's own Jinja chat template does, as segments so that
/// the trainer knows which tokens the assistant produced. Segment boundaries always fall on special
/// tokens, which the pre-tokenizer splits on anyway, so encoding segment by segment gives the same
/// ids as encoding the whole text.
/// </summary>
public abstract class ChatTemplate
{
    public abstract string Name { get; }

    /// <summary>Tokens that end an assistant turn (added to the sampler's stop ids).</summary>
    public abstract IReadOnlyList<string> EndOfTurnTokens { get; }

    public abstract IReadOnlyList<ChatSegment> Render(IReadOnlyList<ChatMessage> messages, IReadOnlyList<JsonObject>? tools, bool addGenerationPrompt);

    public string RenderText(IReadOnlyList<ChatMessage> messages, IReadOnlyList<JsonObject>? tools = null, bool addGenerationPrompt = true) =>
        string.Concat(Render(messages, tools, addGenerationPrompt).Select(s => s.Text));

    public EncodedChat Encode(TextTokenizer tokenizer, IReadOnlyList<ChatMessage> messages, IReadOnlyList<JsonObject>? tools = null, bool addGenerationPrompt = true)
    {
        var ids = new List<int>();
        var mask = new List<bool>();
        foreach (var segment in Render(messages, tools, addGenerationPrompt))
        {
            var part = tokenizer.Encode(segment.Text);
            ids.AddRange(part);
            mask.AddRange(Enumerable.Repeat(segment.Trainable, part.Length));
        }
        return new EncodedChat(ids.ToArray(), mask.ToArray());
    }

    /// <summary>
    /// Picks the template from <c>tokenizer_config.json</c>'s <c>chat_template</c> (or, failing that,
    /// from which special tokens the tokenizer knows).
    /// </summary>
    public static ChatTemplate Detect(string modelDirectory, TextTokenizer tokenizer)
    {
        string? template = null;
        var path = Path.Combine(modelDirectory, "tokenizer_config.json");
        if (File.Exists(path) && JsonNode.Parse(File.ReadAllText(path))?["chat_template"] is JsonNode t)
            template = t is JsonValue v ? v.GetValue<string>() : t.ToJsonString();
        if (template?.Contains("<|im_start|>") == true || (template is null && tokenizer.TokenToId("<|im_start|>") is not null))
            return new ChatMlTemplate(template?.Contains(ChatMlTemplate.QwenDefaultSystem) == true ? ChatMlTemplate.QwenDefaultSystem : null);
        if (template?.Contains("<|start_header_id|>") == true || (template is null && tokenizer.TokenToId("<|start_header_id|>") is not null))
            return new Llama3Template();
        throw new NotSupportedException($"{modelDirectory}: no supported chat template: tokenizer_config.json's chat_template is neither ChatML (<|im_start|>) nor Llama-3 (<|start_header_id|>).");
    }
}
