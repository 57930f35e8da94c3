using System.Text.Json.Nodes;
using Orleans.Rft.Agents;
using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.Engine.Sampling;
using Orleans.Rft.Engine.Tokenization;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>A policy over the toy model's template and tokenizer that answers a fixed text and records each call.</summary>
public sealed class FixedPolicy(ChatTemplate template, TextTokenizer tokenizer) : IPolicy
{
    public const string Answer = "fixed answer";
    readonly List<ModelCall> calls = new();

    public static FixedPolicy Load(string modelDir)
    {
        using var model = LanguageModel.Load(modelDir);
        return new FixedPolicy(model.Template, model.Tokenizer);
    }

    public ChatTemplate Template => template;
    public TextTokenizer Tokenizer => tokenizer;
    public int MaxContextTokens => 512;
    public SamplingOptions Options => new(MaxTokens: 16);
    public IReadOnlyList<ModelCall> Calls { get { lock (calls) return calls.ToList(); } }
    public int[] Render(IReadOnlyList<ChatMessage> messages, IReadOnlyList<JsonObject>? tools) => template.Encode(tokenizer, messages, tools).Ids;

    public Task<ModelCall> SampleAsync(int[] promptIds, SamplingOptions options, CancellationToken cancellation)
    {
        var ids = tokenizer.Encode(Answer);
        var call = new ModelCall(promptIds, ids, new float[ids.Length], Answer, "stop", 0);
        lock (calls) calls.Add(call);
        return Task.FromResult(call);
    }
}
