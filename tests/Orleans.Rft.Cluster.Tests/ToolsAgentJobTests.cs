using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rft.Agents;
using Orleans.Rft.Agents.Tools;
using Orleans.Rft.Engine.Tokenization;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// A job with <c>agent: {type: tools}</c> runs a step end to end on the micro model: every rollout went
/// through the tools agent (its log entry carries an <see cref="AgentReport"/>), the MCP stdio server was
/// started by the silo that ran it, and the prompts the model saw list the server's tools.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ToolsAgentJobTests(ClusterFixture fixture)
{
    static string Server => Path.Combine(AppContext.BaseDirectory, "Fixtures", "mcp_test_server.py");

    [Fact]
    public async Task A_job_whose_every_rollout_fails_in_its_agent_fails_with_what_the_agents_reported_instead_of_training_on_nothing()
    {
        // A tool server that cannot start fails every rollout: the step is retried like a transient fault
        // (2+4+8+16 s of backoff), then the job fails saying why, rather than completing with nothing learned.
        var agent = new JsonObject
        {
            ["type"] = "tools",
            ["mcp_servers"] = new JsonArray(new JsonObject { ["name"] = "calc", ["command"] = "python3", ["args"] = new JsonArray("-u", "no_such_server.py"), ["cwd"] = AppContext.BaseDirectory }),
        }.ToJsonString();
        var spec = fixture.Spec("tools-agent-broken", trainers: 1, maxSteps: 2) with { AgentJson = agent };
        var snapshot = await fixture.RunToEnd("tools-agent-broken", spec);
        Assert.Equal(JobStatus.Failed, snapshot.Status);
        Assert.Contains("every rollout of step 0 failed in its agent", snapshot.LastError);
        Assert.Contains("tool_server", snapshot.LastError);
        Assert.Equal(0, snapshot.Step);
    }

    [Fact]
    public async Task A_tools_agent_job_trains_a_step_and_each_rollout_log_entry_carries_its_agent_report()
    {
        var agent = new JsonObject
        {
            ["type"] = "tools", ["max_turns"] = 2, ["tool_timeout_seconds"] = 5,
            ["mcp_servers"] = new JsonArray(new JsonObject { ["name"] = "calc", ["command"] = "python3", ["args"] = new JsonArray("-u", Server), ["cwd"] = AppContext.BaseDirectory }),
        }.ToJsonString();
        var spec = fixture.Spec("tools-agent", trainers: 1, maxSteps: 1) with { AgentJson = agent };
        var snapshot = await fixture.RunToEnd("tools-agent", spec);
        Assert.True(snapshot.Status == JobStatus.Completed, snapshot.LastError);
        Assert.Equal(1, snapshot.Step);

        var page = await fixture.Cluster.Client.GetGrain<IJobGrain>("tools-agent").GetRollouts(0, 0, 100);
        Assert.Equal(spec.Training.BatchPrompts * spec.Inference.N, page.Total);
        var tokenizer = TextTokenizer.Load(fixture.ModelDir);
        foreach (var r in page.Rollouts)
        {
            var report = Assert.IsType<AgentReport>(r.Agent);
            Assert.Null(report.FailureKind);
            Assert.InRange(report.ModelCalls, 1, 2);
            var messages = JsonNode.Parse(report.MessagesJson)!.AsArray();
            Assert.Equal("assistant", messages[0]!["role"]!.GetValue<string>());
            Assert.Equal(report.ToolCalls, messages.Count(m => m!["role"]!.GetValue<string>() == "tool"));
            Assert.NotNull(r.Mask);
            Assert.Equal(r.CompletionIds.Length, r.Mask!.Length);
            var prompt = tokenizer.Decode(r.PromptIds);
            Assert.Contains("<tools>", prompt);                          // the tools came from the MCP server…
            Assert.Contains("\"name\": \"multiply\"", prompt);
        }
        // …which a silo of the cluster started once and shares across rollouts.
        var server = ((ToolsAgentSpec)AgentSpec.Parse(agent)).McpServers[0];
        var starts = fixture.Cluster.Silos.Sum(s => s.ServiceProvider.GetRequiredService<McpToolbox>().Starts(server));
        Assert.InRange(starts, 1, fixture.Cluster.Silos.Count);
    }
}
