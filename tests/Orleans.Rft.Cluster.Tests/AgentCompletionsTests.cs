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
}
