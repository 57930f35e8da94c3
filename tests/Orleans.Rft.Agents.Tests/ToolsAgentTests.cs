using System.Diagnostics;
using System.Text.Json.Nodes;
using Orleans.Rft.Agents.Tools;
using Orleans.Rft.Engine.Chat;
using static Orleans.Rft.Agents.Tests.ScriptedPolicy;

namespace Orleans.Rft.Agents.Tests;

/// <summary>The tools agent's loop against a real MCP stdio server (a Python process) and a scripted policy with the tiny models' template and tokenizer.</summary>
public sealed class ToolsAgentTests : IAsyncLifetime
{
    readonly McpToolbox toolbox = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await toolbox.DisposeAsync();

    static string Content(JsonNode? message) => message!["content"]!.GetValue<string>();

    [Fact]
    public async Task A_two_turn_rollout_merges_into_one_sequence_whose_mask_is_false_exactly_on_the_inserted_tool_text()
    {
        var policy = new ScriptedPolicy([ToolCall("add", """{"a": 2, "b": 3}"""), "The answer is 5."]);
        var t = await new ToolsAgent(McpTestServer.Agent(), toolbox).RunAsync(policy.Rollout("What is 2 + 3?"), CancellationToken.None);

        Assert.Null(t.FailureKind);
        Assert.Equal((2, 1, 0), (t.Calls.Count, t.ToolCalls, t.ToolErrors));
        Assert.Equal(["assistant", "tool", "assistant"], t.Messages.Select(m => m!["role"]!.GetValue<string>()));
        Assert.Equal("add", t.Messages[0]!["tool_calls"]![0]!["function"]!["name"]!.GetValue<string>());
        Assert.Equal("5", Content(t.Messages[1]));                       // the real server's answer
        Assert.Equal("The answer is 5.", Content(t.Messages[2]));
        Assert.Equal("The answer is 5.", t.FinalText);

        var sample = Assert.Single(TrajectoryMerge.Merge(t.Calls));
        Assert.Equal(2, sample.Calls);
        // The model wrote its call exactly as the template renders it, so the merged sequence is the
        // whole conversation's render, less the newline the template puts after the final <|im_end|>.
        var conversation = new List<ChatMessage>
        {
            ChatMessage.User("What is 2 + 3?"),
            new("assistant", null, [new ToolCall("c", "add", new JsonObject { ["a"] = 2, ["b"] = 3 })]),
            new("tool", "5", ToolCallId: "c", Name: "add"),
            ChatMessage.Assistant("The answer is 5."),
        };
        var full = policy.Template.Encode(policy.Tokenizer, conversation, Offered(), addGenerationPrompt: false).Ids;
        Assert.Equal("\n", policy.Tokenizer.Decode([full[^1]]));
        int[] merged = [.. sample.PromptIds, .. sample.CompletionIds];
        Assert.Equal(full[..^1], merged);
        // Trained: the model's own tokens (both turns, each closed by <|im_end|>); masked: only the tool text between them.
        var trained = sample.CompletionIds.Where((_, i) => sample.Mask[i]).ToArray();
        Assert.Equal([.. t.Calls[0].CompletionIds, .. t.Calls[1].CompletionIds], trained);
        var masked = sample.CompletionIds.Where((_, i) => !sample.Mask[i]).ToArray();
        Assert.Equal("\n<|im_start|>user\n<tool_response>\n5\n</tool_response><|im_end|>\n<|im_start|>assistant\n", policy.Tokenizer.Decode(masked));
        Assert.Equal(sample.Mask.Length - trained.Length, sample.LogProbs.Count(p => p == 0));
    }

    /// <summary>The tools the agent rendered into the first prompt (what the test's own render must offer too).</summary>
    List<JsonObject> Offered() => OfferedTools.ResolveAsync([McpTestServer.Spec()], toolbox, null, CancellationToken.None).Result.Functions.ToList();

    [Fact]
    public async Task An_unknown_tool_and_a_malformed_call_come_back_as_tool_messages_and_the_model_goes_on()
    {
        var policy = new ScriptedPolicy([ToolCall("divide", """{"a": 1, "b": 2}"""), "<tool_call>\n{\"name\": \"add\", \"arguments\": \n</tool_call>", "I cannot divide."]);
        var t = await new ToolsAgent(McpTestServer.Agent(), toolbox).RunAsync(policy.Rollout("What is 1 / 2?"), CancellationToken.None);

        Assert.Null(t.FailureKind);
        Assert.Equal((3, 2, 2), (t.Calls.Count, t.ToolCalls, t.ToolErrors));
        Assert.Equal(["assistant", "tool", "assistant", "tool", "assistant"], t.Messages.Select(m => m!["role"]!.GetValue<string>()));
        Assert.Contains("unknown tool 'divide'", Content(t.Messages[1]));
        Assert.Contains("add, multiply", Content(t.Messages[1]));          // it says which tools exist
        Assert.Contains("malformed tool call", Content(t.Messages[3]));
        Assert.Null(t.Messages[2]!["tool_calls"]);                          // nothing ran for the malformed turn
        Assert.Single(TrajectoryMerge.Merge(t.Calls));                      // still one sequence
    }

    [Fact]
    public async Task A_tool_error_result_is_a_tool_message_marked_as_an_error()
    {
        var policy = new ScriptedPolicy([ToolCall("fail", "{}"), "It failed."]);
        var t = await new ToolsAgent(McpTestServer.Agent(), toolbox).RunAsync(policy.Rollout("Try."), CancellationToken.None);
        Assert.Null(t.FailureKind);
        Assert.Equal((1, 1), (t.ToolCalls, t.ToolErrors));
        Assert.Equal("this tool always fails", Content(t.Messages[1]));
    }

    [Fact]
    public async Task A_hanging_tool_ends_within_the_timeout_as_a_tool_error_and_the_server_keeps_serving()
    {
        var policy = new ScriptedPolicy([ToolCall("hang", "{}"), "It did not answer."]);
        var watch = Stopwatch.StartNew();
        var t = await new ToolsAgent(McpTestServer.Agent(toolTimeoutSeconds: 1), toolbox).RunAsync(policy.Rollout("Wait."), CancellationToken.None);
        watch.Stop();

        Assert.Null(t.FailureKind);
        Assert.Equal((1, 1), (t.ToolCalls, t.ToolErrors));
        Assert.Contains("did not answer within 1 s", Content(t.Messages[1]));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"the rollout took {watch.Elapsed} (server start + a 1 s tool timeout)");

        var next = new ScriptedPolicy([ToolCall("multiply", """{"a": 6, "b": 7}"""), "42"]);
        var u = await new ToolsAgent(McpTestServer.Agent(toolTimeoutSeconds: 1), toolbox).RunAsync(next.Rollout("6 * 7?", id: "r1"), CancellationToken.None);
        Assert.Equal("42", Content(u.Messages[1]));
        Assert.Equal(1, toolbox.Starts(McpTestServer.Spec()));
    }

    [Fact]
    public async Task A_crashed_server_fails_that_rollout_as_tool_server_and_the_next_rollout_restarts_it()
    {
        var agent = new ToolsAgent(McpTestServer.Agent(), toolbox);
        var first = new ScriptedPolicy([ToolCall("pid", "{}"), ToolCall("crash", "{}"), "unreachable"]);
        var t = await agent.RunAsync(first.Rollout("Crash.", id: "r0"), CancellationToken.None);
        Assert.Equal(AgentFailureKinds.ToolServer, t.FailureKind);
        Assert.Contains("'test'", t.Failure);
        Assert.Equal(2, t.Calls.Count);
        var pidBefore = Content(t.Messages[1]);

        var second = new ScriptedPolicy([ToolCall("pid", "{}"), "done"]);
        var u = await agent.RunAsync(second.Rollout("Again.", id: "r1"), CancellationToken.None);
        Assert.Null(u.FailureKind);
        Assert.NotEqual(pidBefore, Content(u.Messages[1]));                // a new process answered
        Assert.Equal(2, toolbox.Starts(McpTestServer.Spec()));
    }

    [Fact]
    public async Task A_rows_tools_list_restricts_the_offered_tools_and_a_call_outside_it_is_an_unknown_tool()
    {
        var rowTools = new List<JsonObject> { new() { ["type"] = "function", ["function"] = new JsonObject { ["name"] = "add" } } };
        var policy = new ScriptedPolicy([ToolCall("multiply", """{"a": 2, "b": 3}"""), "6"]);
        var t = await new ToolsAgent(McpTestServer.Agent(), toolbox).RunAsync(policy.Rollout("2 * 3?", rowTools), CancellationToken.None);

        Assert.Equal(["add"], policy.OfferedNames[0]);
        Assert.Contains("unknown tool 'multiply'; the tools are: add.", Content(t.Messages[1]));
        Assert.DoesNotContain("multiply", policy.Tokenizer.Decode(t.Calls[0].PromptIds));
    }

    [Fact]
    public async Task A_full_context_ends_the_rollout_as_context_full_after_the_turn_that_filled_it()
    {
        var probe = new ScriptedPolicy([]);
        int firstPrompt = probe.Render([ChatMessage.User("What is 2 + 3?")], Offered()).Length;
        // Room for the first turn (prompt + max_tokens) but not for the second turn's longer prompt.
        var policy = new ScriptedPolicy([ToolCall("add", """{"a": 2, "b": 3}"""), "never sampled"], maxContextTokens: firstPrompt + 64 + 10, maxTokens: 64);
        var t = await new ToolsAgent(McpTestServer.Agent(), toolbox).RunAsync(policy.Rollout("What is 2 + 3?"), CancellationToken.None);

        Assert.Equal(AgentFailureKinds.Context, t.FailureKind);
        Assert.Single(t.Calls);
        Assert.Equal(["assistant", "tool"], t.Messages.Select(m => m!["role"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Max_turns_ends_the_rollout_at_that_many_model_calls_without_running_the_last_calls()
    {
        var policy = new ScriptedPolicy([ToolCall("add", """{"a": 1, "b": 1}"""), ToolCall("add", """{"a": 2, "b": 2}"""), "never sampled"]);
        var t = await new ToolsAgent(McpTestServer.Agent(maxTurns: 2), toolbox).RunAsync(policy.Rollout("Count."), CancellationToken.None);
        Assert.Null(t.FailureKind);
        Assert.Equal((2, 1), (t.Calls.Count, t.ToolCalls));
        Assert.Equal(["assistant", "tool", "assistant"], t.Messages.Select(m => m!["role"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_server_that_cannot_start_fails_the_rollout_as_tool_server_with_the_command_in_the_reason()
    {
        var spec = new ToolsAgentSpec(4, 10, [new McpServerSpec("missing", "/nonexistent/mcp-server", [], new Dictionary<string, string>(), null)]);
        var t = await new ToolsAgent(spec, toolbox).RunAsync(new ScriptedPolicy(["x"]).Rollout("Hi."), CancellationToken.None);
        Assert.Equal(AgentFailureKinds.ToolServer, t.FailureKind);
        Assert.Contains("/nonexistent/mcp-server", t.Failure);
        Assert.Empty(t.Calls);
    }

    [Fact]
    public async Task A_rollout_that_keeps_calling_a_hanging_tool_ends_at_its_deadline_as_deadline_with_its_calls_so_far()
    {
        var policy = new ScriptedPolicy([ToolCall("hang", "{}"), ToolCall("hang", "{}"), ToolCall("hang", "{}"), ToolCall("hang", "{}"), "never sampled"]);
        var spec = new ToolsAgentSpec(64, 1.5, [McpTestServer.Spec()], TimeoutSeconds: 4);
        await OfferedTools.ResolveAsync(spec.McpServers, toolbox, null, CancellationToken.None); // the server's start is not the rollout's
        var watch = Stopwatch.StartNew();
        var t = await new ToolsAgent(spec, toolbox).RunAsync(policy.Rollout("Wait."), CancellationToken.None);
        watch.Stop();

        Assert.Equal(AgentFailureKinds.Deadline, t.FailureKind);
        Assert.Contains("timeout_seconds (4 s)", t.Failure);
        Assert.Equal(3, t.Calls.Count);                                     // hangs of 1.5 s each: the third call's tool runs into the deadline
        Assert.Equal((2, 2), (t.ToolCalls, t.ToolErrors));
        Assert.Equal(["assistant", "tool", "assistant", "tool", "assistant"], t.Messages.Select(m => m!["role"]!.GetValue<string>()));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5.5), $"the rollout took {watch.Elapsed}; its deadline is 4 s");
    }

    [Fact]
    public async Task A_tool_result_over_64_KiB_is_cut_with_a_note_the_model_reads()
    {
        var policy = new ScriptedPolicy([ToolCall("big", """{"n": 1000000}"""), "Long."], maxContextTokens: 1 << 20);
        var t = await new ToolsAgent(McpTestServer.Agent(), toolbox).RunAsync(policy.Rollout("Say x."), CancellationToken.None);

        var result = Content(t.Messages[1]);
        Assert.StartsWith(new string('x', ToolsAgent.MaxToolResultChars), result);
        Assert.EndsWith("[cut: the tool returned 1000000 characters; only the first 65536 are shown]", result);
        Assert.True(result.Length < ToolsAgent.MaxToolResultChars + 200, $"the tool message has {result.Length} characters");
    }
}
