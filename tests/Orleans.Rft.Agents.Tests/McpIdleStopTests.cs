using System.Text.Json.Nodes;
using Orleans.Rft.Agents.Tools;

namespace Orleans.Rft.Agents.Tests;

/// <summary>A stdio MCP server nothing uses any more is stopped (its jobs have ended), never while a call is running, and its next use starts a new one.</summary>
public sealed class McpIdleStopTests : IAsyncLifetime
{
    readonly McpToolbox toolbox = new() { IdleTimeout = TimeSpan.FromSeconds(1), IdleCheckInterval = TimeSpan.FromMilliseconds(200) };

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await toolbox.DisposeAsync();

    async Task<string> Pid() => (await toolbox.CallAsync(McpTestServer.Spec(), "pid", new JsonObject(), TimeSpan.FromSeconds(10), CancellationToken.None)).Text;

    [Fact]
    public async Task An_idle_server_is_stopped_and_its_next_use_starts_a_new_process()
    {
        var first = await Pid();
        Assert.Equal(1, toolbox.Starts(McpTestServer.Spec()));
        await Task.Delay(TimeSpan.FromSeconds(2.5));                      // past the idle timeout, several checks
        Assert.False(IsRunning(int.Parse(first)), $"process {first} still runs after being idle");
        var second = await Pid();
        Assert.NotEqual(first, second);
        Assert.Equal(2, toolbox.Starts(McpTestServer.Spec()));
    }

    [Fact]
    public async Task A_call_longer_than_the_idle_timeout_keeps_its_server()
    {
        var first = await Pid();
        var hung = await toolbox.CallAsync(McpTestServer.Spec(), "hang", new JsonObject(), TimeSpan.FromSeconds(2.5), CancellationToken.None);
        Assert.True(hung.IsError);                                       // the tool's timeout, not a stopped server
        Assert.Equal(first, await Pid());                                 // used until just now: not stopped
        Assert.Equal(1, toolbox.Starts(McpTestServer.Spec()));
    }

    static bool IsRunning(int pid)
    {
        try { using var p = System.Diagnostics.Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; }
    }
}
