using System.Text.Json.Nodes;
using Orleans.Rft.Agents;
using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Sampling;
using Orleans.Rft.Engine.Tokenization;

namespace Orleans.Rft.Grains.Services;

/// <summary>
/// <see cref="IPolicy"/> for one agent rollout on a rollout worker: samples from the step's policy
/// version through the device's continuous batcher (an agent's turns join whatever decodes there, and
/// tool calls run while the rest keep decoding) and records every call. Call k of the rollout is seeded
/// with <c>RowSeed(rowSeed, k)</c>, so a rerun of the step repeats the same turns.
/// </summary>
public sealed class RolloutPolicy(IGenerationService generation, string device, ArtifactLease baseModel, string? adapterFolder, string? adapterKey,
    int policyVersion, ChatTemplate template, TextTokenizer tokenizer, JsonObject? templateKwargs, SamplingOptions options, int maxContextTokens) : IPolicy
{
    readonly List<ModelCall> calls = new();
    readonly object gate = new();

    public ChatTemplate Template => template;
    public TextTokenizer Tokenizer => tokenizer;
    public int MaxContextTokens => maxContextTokens;
    public SamplingOptions Options => options;

    /// <summary>Every call so far, in the order they were made.</summary>
    public IReadOnlyList<ModelCall> Calls { get { lock (gate) return calls.ToList(); } }

    public int[] Render(IReadOnlyList<ChatMessage> messages, IReadOnlyList<JsonObject>? tools) =>
        template.Encode(tokenizer, messages, tools, kwargs: templateKwargs).Ids;

    public string RenderText(IReadOnlyList<ChatMessage> messages, IReadOnlyList<JsonObject>? tools, bool addGenerationPrompt) =>
        template.RenderText(messages, tools, addGenerationPrompt, templateKwargs);

    public async Task<ModelCall> SampleAsync(int[] promptIds, SamplingOptions settings, CancellationToken cancellation)
    {
        int index;
        lock (gate) index = calls.Count;
        var seeded = settings with { Seed = SamplingOptions.RowSeed(options.Seed ?? 0, index), RowSeeds = null };
        var s = await generation.GenerateAsync(device, new SequenceRequest(baseModel, adapterFolder, adapterKey, promptIds, seeded), null, cancellation);
        var call = new ModelCall(promptIds, s.TokenIds, s.PolicyLogProbs, s.Text, s.FinishReason, policyVersion);
        lock (gate) calls.Add(call);
        return call;
    }
}
