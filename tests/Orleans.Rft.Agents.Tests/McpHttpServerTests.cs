using System.Diagnostics;
using System.Text.Json.Nodes;
using Orleans.Rft.Agents.Tools;

namespace Orleans.Rft.Agents.Tests;

/// <summary>A streamable-HTTP MCP server is used by URL: its tools are listed and called; once it is gone a call fails as an unavailable server, not as a tool error.</summary>
public sealed class McpHttpServerTests : IAsyncLifetime
{
    readonly McpToolbox toolbox = new();
    Process server = null!;
    McpServerSpec spec = null!;

    public async Task InitializeAsync()
    {
        server = Process.Start(new ProcessStartInfo("python3", ["-u", McpTestServer.Script, "--http"]) { RedirectStandardOutput = true })!;
        var first = await server.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20)) ?? throw new InvalidOperationException("the HTTP test server printed no port");
        spec = new McpServerSpec("http", null, [], new Dictionary<string, string>(), $"http://127.0.0.1:{first.Split(' ')[1]}/mcp");
    }

    public async Task DisposeAsync()
    {
        await toolbox.DisposeAsync();
        if (!server.HasExited) { server.Kill(); await server.WaitForExitAsync(); }
        server.Dispose();
    }

    [Fact]
    public async Task Tools_of_a_streamable_http_server_are_listed_and_called_and_a_vanished_server_is_unavailable()
    {
        var tools = await toolbox.ToolsAsync(spec, CancellationToken.None);
        Assert.Contains("multiply", tools.Select(t => t.Name));
        var result = await toolbox.CallAsync(spec, "multiply", new JsonObject { ["a"] = 6, ["b"] = 7 }, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal(new McpToolResult("42", false), result);
        var unknown = await toolbox.CallAsync(spec, "nope", new JsonObject(), TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.True(unknown.IsError);
        Assert.Contains("Unknown tool: nope", unknown.Text);

        server.Kill();
        await server.WaitForExitAsync();
        var e = await Assert.ThrowsAsync<McpServerUnavailableException>(() =>
            toolbox.CallAsync(spec, "add", new JsonObject { ["a"] = 1, ["b"] = 2 }, TimeSpan.FromSeconds(10), CancellationToken.None));
        Assert.Equal("http", e.Server);
    }
}
