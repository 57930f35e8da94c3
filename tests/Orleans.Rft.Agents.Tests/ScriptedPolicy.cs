using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Presets;
using Orleans.Rft.Engine.Sampling;
using Orleans.Rft.Engine.Tokenization;

namespace Orleans.Rft.Agents.Tests;

/// <summary>
/// An <see cref="IPolicy"/> that answers each call with the next scripted text, tokenised by the tiny
/// models' real tokenizer and closed by their end-of-turn token as a sampled turn is; it renders with
/// their real chat template (Qwen-style tools, &lt;tool_call&gt;) and records the tools each render offered.
/// </summary>
public sealed class ScriptedPolicy : IPolicy
{
    static readonly Lazy<(ChatTemplate, TextTokenizer)> Tiny = new(() =>
    {
        var dir = Path.Combine(Path.GetTempPath(), "orleans-rft-agents-tests", "tokenizer-" + Guid.NewGuid().ToString("N")[..8]);
        TinyModelPresets.WriteTokenizer(dir);
        var tokenizer = TextTokenizer.Load(dir);
        return (ChatTemplate.Detect(dir, tokenizer), tokenizer);
    });

    readonly Queue<string> script;
    readonly List<ModelCall> calls = new();

    public ScriptedPolicy(IEnumerable<string> script, int maxContextTokens = 4096, int maxTokens = 64)
    {
        this.script = new Queue<string>(script);
        MaxContextTokens = maxContextTokens;
        Options = new SamplingOptions(MaxTokens: maxTokens, Seed: 1);
    }

    public ChatTemplate Template => Tiny.Value.Item1;
    public TextTokenizer Tokenizer => Tiny.Value.Item2;
    public int MaxContextTokens { get; }
    public SamplingOptions Options { get; }
    public IReadOnlyList<ModelCall> Calls => calls;
    public int EndOfTurn => Tokenizer.TokenToId("<|im_end|>")!.Value;

    /// <summary>The tool names each render offered, in order.</summary>
    public List<string[]> OfferedNames { get; } = new();

    public int[] Render(IReadOnlyList<ChatMessage> messages, IReadOnlyList<JsonObject>? tools)
    {
        OfferedNames.Add(tools?.Select(t => t["function"]!["name"]!.GetValue<string>()).ToArray() ?? []);
        return Template.Encode(Tokenizer, messages, tools).Ids;
    }

    public Task<ModelCall> SampleAsync(int[] promptIds, SamplingOptions options, CancellationToken cancellation)
    {
        var text = script.Count > 0 ? script.Dequeue() : throw new InvalidOperationException("the script has no more turns");
        int[] ids = [.. Tokenizer.Encode(text), EndOfTurn];
        var call = new ModelCall(promptIds, ids, ids.Select((_, i) => -0.01f * (i + 1)).ToArray(), text, FinishReason.Stop, 1);
        calls.Add(call);
        return Task.FromResult(call);
    }

    public AgentRollout Rollout(string question, IReadOnlyList<JsonObject>? rowTools = null, string id = "r0") => new(
        id, new JsonObject(), [ChatMessage.User(question)], rowTools, this, new AgentRolloutIds("inv", "exp", "step-0", "0", id));

    /// <summary>A call in the template's own format, exactly as it re-renders an assistant turn with tool calls.</summary>
    public static string ToolCall(string name, string argumentsJson) => $"<tool_call>\n{{\"name\": \"{name}\", \"arguments\": {argumentsJson}}}\n</tool_call>";
}
