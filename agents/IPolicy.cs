using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Sampling;

namespace Orleans.Rft.Agents;

/// <summary>
/// The job's current policy as an agent sees it during one rollout: the model's own chat template and
/// tokenizer, and sampling that is recorded. Implemented over the cluster's generation service (the
/// rollout worker); agents know nothing of Orleans.
/// </summary>
public interface IPolicy
{
    /// <summary>The base model's template (tool-call format, generation prompt) and tokenizer, for rendering and parsing.</summary>
    ChatTemplate Template { get; }

    /// <summary>The model's tokenizer (<see cref="ChatTemplate.Encode"/> takes it).</summary>
    Engine.Tokenization.TextTokenizer Tokenizer { get; }

    /// <summary>The longest prompt + completion the job trains on (<c>training.max_context_length</c>).</summary>
    int MaxContextTokens { get; }

    /// <summary>
    /// Samples one completion of <paramref name="promptIds"/> with <paramref name="options"/> (the job's
    /// settings unless an agent overrides some) from the current policy, and records it as a
    /// <see cref="ModelCall"/> of this rollout. Runs while other sequences keep decoding.
    /// </summary>
    Task<ModelCall> SampleAsync(int[] promptIds, SamplingOptions options, CancellationToken cancellation);

    /// <summary>The rollout's own sampling settings (temperature, top_p, top_k, max_tokens, stop, seed).</summary>
    SamplingOptions Options { get; }

    /// <summary>Every call made through <see cref="SampleAsync"/> so far, in order (the rollout's training data).</summary>
    IReadOnlyList<ModelCall> Calls { get; }

    /// <summary>Renders <paramref name="messages"/> (and <paramref name="tools"/>) with the generation prompt, as rollouts do, with the job's chat_template_kwargs.</summary>
    int[] Render(IReadOnlyList<ChatMessage> messages, IReadOnlyList<JsonObject>? tools);

    /// <summary>
    /// The text <see cref="Render"/> encodes, with or without the generation prompt: a multi-turn agent
    /// finds what the template inserts after the model's turn from it. Policies that pass template
    /// kwargs must pass them here too.
    /// </summary>
    string RenderText(IReadOnlyList<ChatMessage> messages, IReadOnlyList<JsonObject>? tools, bool addGenerationPrompt) =>
        Template.RenderText(messages, tools, addGenerationPrompt);
}
