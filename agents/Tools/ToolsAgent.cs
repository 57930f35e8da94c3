using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Chat.ToolCalls;

namespace Orleans.Rft.Agents.Tools;

/// <summary>
/// Multi-turn tool use inside the cluster (<c>agent: {type: tools}</c>): sample, parse the tool calls in
/// the format the model's template teaches, call them over MCP, append the results as <c>tool</c>
/// messages and sample again — until a final answer (a turn without calls), <c>max_turns</c> model
/// calls, or a full context. A malformed call, an unknown tool, a tool error or a timeout becomes a
/// <c>tool</c> message the model can read and recover from; only a dead MCP server fails the rollout.
/// Tool calls are awaited I/O: the device keeps decoding other sequences meanwhile. The whole rollout
/// ends at <c>timeout_seconds</c> as <see cref="AgentFailureKinds.Deadline"/>, with the calls made so far.
/// </summary>
public sealed class ToolsAgent(ToolsAgentSpec spec, McpToolbox toolbox) : IAgent
{
    /// <summary>
    /// The most of one tool result the model reads (64 Ki characters): a tool that returns megabytes
    /// would otherwise fill the context and the recorded rollout (which crosses the cluster in one
    /// message page) for nothing; the rest is cut with a note the model can read.
    /// </summary>
    public const int MaxToolResultChars = 64 << 10;

    public async Task<AgentTrajectory> RunAsync(AgentRollout rollout, CancellationToken cancellation)
    {
        // The whole rollout's deadline (timeout_seconds): a tool that hangs turn after turn must not outlast the step's worker call.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(TimeSpan.FromSeconds(spec.TimeoutSeconds));
        var progress = new Progress();
        try { return await RunAsync(rollout, progress, deadline.Token); }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellation.IsCancellationRequested)
        {
            return new AgentTrajectory(rollout.Policy.Calls, progress.Added, progress.ToolCalls, progress.ToolErrors, AgentFailureKinds.Deadline,
                $"the rollout did not finish within timeout_seconds ({spec.TimeoutSeconds:0.###} s); it had made {rollout.Policy.Calls.Count} model calls and {progress.ToolCalls} tool calls.");
        }
    }

    /// <summary>What the rollout has done so far, kept for a rollout that ends at its deadline.</summary>
    sealed class Progress
    {
        public readonly JsonArray Added = new();
        public int ToolCalls, ToolErrors;
    }

    async Task<AgentTrajectory> RunAsync(AgentRollout rollout, Progress progress, CancellationToken cancellation)
    {
        var policy = rollout.Policy;
        var added = progress.Added;
        if (ToolCallParsers.DetectName(policy.Template) is not string format)
            return AgentTrajectory.Failed(AgentFailureKinds.AgentError,
                $"the model's chat template ({policy.Template.Name}) shows no tool-call format (hermes <tool_call>, llama3 JSON, mistral [TOOL_CALLS], pythonic); tools agents need a template that renders tools.");
        var parser = ToolCallParsers.Create(format);
        OfferedTools offered;
        try { offered = await OfferedTools.ResolveAsync(spec.McpServers, toolbox, rollout.Tools, cancellation); }
        catch (McpServerUnavailableException e) { return AgentTrajectory.Failed(AgentFailureKinds.ToolServer, e.Message); }
        var tools = offered.Functions.Count > 0 ? offered.Functions : null;
        var conversation = rollout.Messages.ToList();
        var prompt = policy.Render(conversation, tools);
        AgentTrajectory Result(string? kind = null, string? why = null) => new(policy.Calls, added, progress.ToolCalls, progress.ToolErrors, kind, why);

        for (int turn = 1; ; turn++)
        {
            var call = await policy.SampleAsync(prompt, policy.Options, cancellation);
            var parsed = parser.Parse(call.Text);
            added.Add(parsed.ToJson());
            if (parsed.ToolCalls.Count == 0 && parsed.Errors.Count == 0) return Result(); // a final answer
            if (turn >= spec.MaxTurns) return Result(); // its calls are recorded, not run: nothing reads their results
            var before = conversation.ToList();
            conversation.Add(new ChatMessage("assistant", parsed.Content, parsed.ToolCalls.Count > 0 ? parsed.ToolCalls.Select(c => c.ToChatToolCall()).ToList() : null,
                ReasoningContent: parsed.ReasoningContent));
            List<(ChatMessage Message, bool Error)> results;
            try { results = (await Task.WhenAll(parsed.ToolCalls.Select(c => Call(c, offered, cancellation)))).ToList(); }
            catch (McpServerUnavailableException e) { return Result(AgentFailureKinds.ToolServer, e.Message); }
            // A call the parser could not read is answered too, so the model sees why nothing ran.
            results.AddRange(parsed.Errors.Select(e => (new ChatMessage("tool", $"error: malformed tool call ({e.Replace("; its text is kept as content.", "")}); nothing was run.") , true)));
            foreach (var (message, error) in results)
            {
                conversation.Add(message);
                added.Add(ToJson(message));
                progress.ToolCalls++;
                if (error) progress.ToolErrors++;
            }
            (prompt, _) = NextTurnPrompt.Build(policy, tools, before, call, conversation);
            if (prompt.Length + policy.Options.MaxTokens > policy.MaxContextTokens)
                return Result(AgentFailureKinds.Context,
                    $"the next turn's prompt ({prompt.Length} tokens) + max_tokens ({policy.Options.MaxTokens}) exceeds the context ({policy.MaxContextTokens}) after {turn} turns.");
        }
    }

    async Task<(ChatMessage, bool)> Call(ParsedToolCall call, OfferedTools offered, CancellationToken cancellation)
    {
        var name = call.Function.Name;
        McpToolResult result;
        if (offered.Owner(name) is not McpServerSpec server)
            result = new McpToolResult($"error: unknown tool '{name}'; the tools are: {string.Join(", ", offered.Names.DefaultIfEmpty("(none)"))}.", true);
        else
        {
            var arguments = JsonNode.Parse(call.Function.Arguments) as JsonObject ?? new JsonObject();
            result = await toolbox.CallAsync(server, name, arguments, TimeSpan.FromSeconds(spec.ToolTimeoutSeconds), cancellation);
        }
        return (new ChatMessage("tool", Capped(result.Text), ToolCallId: call.Id, Name: name), result.IsError);
    }

    /// <summary>A tool result of at most <see cref="MaxToolResultChars"/> characters plus a note saying how much was cut.</summary>
    public static string Capped(string text)
    {
        if (text.Length <= MaxToolResultChars) return text;
        int keep = char.IsHighSurrogate(text[MaxToolResultChars - 1]) ? MaxToolResultChars - 1 : MaxToolResultChars; // never split a surrogate pair
        return $"{text[..keep]}\n[cut: the tool returned {text.Length} characters; only the first {keep} are shown]";
    }

    /// <summary>An OpenAI <c>tool</c> message: <c>{"role": "tool", "tool_call_id"?, "name"?, "content"}</c>.</summary>
    static JsonObject ToJson(ChatMessage m)
    {
        var o = new JsonObject { ["role"] = m.Role };
        if (m.ToolCallId is not null) o["tool_call_id"] = m.ToolCallId;
        if (m.Name is not null) o["name"] = m.Name;
        o["content"] = m.Content;
        return o;
    }
}
