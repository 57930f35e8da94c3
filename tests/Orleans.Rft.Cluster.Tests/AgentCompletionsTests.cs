using System.Text.Json.Nodes;
using Orleans.Rft.Agents;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>How an agent's ending shows in the rollout: a full context is a cut (finish "length", trained and scored), a failure is "agent_error".</summary>
public sealed class AgentCompletionsTests
{
    static readonly ModelCall Call = new([1, 2], [3, 4], [-0.1f, -0.2f], "<tool_call>…", "stop", 2);

    [Fact]
    public void A_rollout_that_filled_the_context_finishes_as_length_and_keeps_its_trained_tokens()
    {
        var c = AgentCompletions.From(new AgentTrajectory([Call], new JsonArray(), 1, 0, AgentFailureKinds.Context, "the next turn's prompt …"), [1, 2]);
        Assert.Equal("length", c.FinishReason);
        Assert.Equal([3, 4], c.CompletionIds);
        Assert.Equal(AgentFailureKinds.Context, c.Agent!.FailureKind);
    }

    [Fact]
    public void A_rollout_whose_tool_server_died_finishes_as_agent_error()
    {
        var c = AgentCompletions.From(AgentTrajectory.Failed(AgentFailureKinds.ToolServer, "MCP server 'calc' stopped", [Call]), [1, 2]);
        Assert.Equal("agent_error", c.FinishReason);
        Assert.Equal(AgentFailureKinds.ToolServer, c.Agent!.FailureKind);
    }

    [Fact]
    public void Recorded_messages_over_256_KiB_keep_the_first_and_last_messages_as_valid_json_and_say_what_was_dropped()
    {
        var messages = new JsonArray();
        for (int i = 0; i < 300; i++) messages.Add(new JsonObject { ["role"] = i % 2 == 0 ? "assistant" : "tool", ["content"] = $"m{i} " + new string('é', 1000) });
        var c = AgentCompletions.From(new AgentTrajectory([Call], messages, 150, 0), [1, 2]);

        var json = c.Agent!.MessagesJson;
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(json) <= AgentCompletions.MaxMessagesBytes, $"{System.Text.Encoding.UTF8.GetByteCount(json)} bytes");
        var kept = JsonNode.Parse(json)!.AsArray();
        Assert.StartsWith("m0 ", kept[0]!["content"]!.GetValue<string>());
        Assert.StartsWith("m299 ", kept[^1]!["content"]!.GetValue<string>());
        var note = Assert.Single(kept, m => m!["role"]!.GetValue<string>() == "system");
        Assert.Contains($"{300 - (kept.Count - 1)} messages", note!["content"]!.GetValue<string>());
        Assert.Contains("dropped", note["content"]!.GetValue<string>());
        Assert.Equal([3, 4], c.CompletionIds);                                    // the training data is untouched
    }

    [Fact]
    public void A_rollout_larger_than_a_page_fails_alone_as_agent_error_with_its_data_dropped_and_the_page_split_does_not_throw()
    {
        var big = new ModelCall([1, 2], Enumerable.Range(0, 1000).ToArray(), new float[1000], "long", "stop", 2);
        const long page = 4000;                                                    // 1000 ids are ~11 kB under the page estimate
        var c = AgentCompletions.From(new AgentTrajectory([big], new JsonArray(), 0, 0), [1, 2], page);

        Assert.Equal("agent_error", c.FinishReason);
        Assert.Equal(AgentFailureKinds.AgentError, c.Agent!.FailureKind);
        Assert.Contains("too large", c.Agent.Failure);
        Assert.Empty(c.CompletionIds);
        Assert.Equal([1, 2], c.PromptIds);
        var pages = GenerateResultPages.Split([c], 1, 2, 0, "a", page);
        Assert.Single(pages);
        var small = AgentCompletions.From(new AgentTrajectory([Call], new JsonArray(), 0, 0), [1, 2], page);
        Assert.Null(small.Agent!.FailureKind);                                    // a rollout that fits is kept as it is
    }
}
