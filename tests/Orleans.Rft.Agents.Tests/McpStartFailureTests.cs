using System.Diagnostics;
using Orleans.Rft.Agents.Tools;

namespace Orleans.Rft.Agents.Tests;

/// <summary>A server that hangs at start-up costs the silo one start timeout, not one per rollout.</summary>
public sealed class McpStartFailureTests : IAsyncLifetime
{
    static readonly TimeSpan Start = TimeSpan.FromSeconds(2);
    readonly McpToolbox toolbox = new() { StartTimeout = Start };

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await toolbox.DisposeAsync();

    static ToolsAgentSpec Hanging() =>
        new(4, 1, [new McpServerSpec("sleeper", "python3", ["-c", "import time; time.sleep(3600)"], new Dictionary<string, string>(), null)]);

    [Fact]
    public async Task Rollouts_waiting_on_a_hanging_start_fail_with_its_error_once_it_times_out_and_new_ones_fail_at_once()
    {
        var agent = new ToolsAgent(Hanging(), toolbox);
        var watch = Stopwatch.StartNew();
        var ended = await Task.WhenAll(Enumerable.Range(0, 3).Select(async i =>
        {
            var t = await agent.RunAsync(new ScriptedPolicy(["x"]).Rollout("Hi.", id: $"r{i}"), CancellationToken.None);
            return (Trajectory: t, At: watch.Elapsed);
        }));
        foreach (var (t, at) in ended)
        {
            Assert.Equal(AgentFailureKinds.ToolServer, t.FailureKind);
            Assert.True(t.Failure!.Contains("no answer within 2 s"), t.Failure);
            // One attempt: the start timeout plus up to 2 s to stop the process (the transport's shutdown timeout).
            // Without remembering the failure each waiter makes its own attempt in turn: ~4, ~8, ~12 s.
            Assert.True(at < Start + TimeSpan.FromSeconds(3.5), $"a rollout ended after {at}; the start timeout is {Start}");
        }

        var again = Stopwatch.StartNew();
        var late = await agent.RunAsync(new ScriptedPolicy(["x"]).Rollout("Hi.", id: "r3"), CancellationToken.None);
        Assert.Equal(AgentFailureKinds.ToolServer, late.FailureKind);
        Assert.Contains("no answer within 2 s", late.Failure);
        Assert.True(again.Elapsed < TimeSpan.FromSeconds(0.5), $"a rollout after the failed start waited {again.Elapsed}");
    }

    [Fact]
    public async Task A_server_writing_a_line_over_16_MiB_is_stopped_at_once_and_fails_the_rollout_as_tool_server()
    {
        var toolbox = new McpToolbox(); // the real 30 s start timeout: the limit, not the timeout, must end this
        await using var _ = toolbox;
        var script = "import sys, time; sys.stdout.write('x' * (40 << 20)); sys.stdout.flush(); time.sleep(3600)";
        var spec = new ToolsAgentSpec(4, 1, [new McpServerSpec("flood", "python3", ["-c", script], new Dictionary<string, string>(), null)]);
        var watch = Stopwatch.StartNew();
        var t = await new ToolsAgent(spec, toolbox).RunAsync(new ScriptedPolicy(["x"]).Rollout("Hi."), CancellationToken.None);

        Assert.Equal(AgentFailureKinds.ToolServer, t.FailureKind);
        Assert.True(t.Failure!.Contains("line of more than 16 MiB"), t.Failure);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"the rollout took {watch.Elapsed}; the start timeout is 30 s");
    }
}
