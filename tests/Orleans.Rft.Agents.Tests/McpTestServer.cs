namespace Orleans.Rft.Agents.Tests;

/// <summary>The Python-standard-library MCP stdio server in Fixtures/ (tools add, multiply, fail, hang, crash, pid).</summary>
public static class McpTestServer
{
    public static string Script => Path.Combine(AppContext.BaseDirectory, "Fixtures", "mcp_test_server.py");

    public static McpServerSpec Spec(string name = "test") =>
        new(name, "python3", ["-u", Script], new Dictionary<string, string>(), null, AppContext.BaseDirectory);

    public static ToolsAgentSpec Agent(double toolTimeoutSeconds = 10, int maxTurns = 4) => new(maxTurns, toolTimeoutSeconds, [Spec()]);
}
