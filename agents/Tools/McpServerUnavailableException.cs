namespace Orleans.Rft.Agents.Tools;

/// <summary>
/// An MCP server could not be started or reached, or died during a call. It fails the rollout that
/// met it (<see cref="AgentFailureKinds.ToolServer"/>), not the job; the next use starts it again.
/// </summary>
public sealed class McpServerUnavailableException(string server, string reason, Exception? inner = null)
    : Exception($"MCP server '{server}' {reason}", inner)
{
    public string Server { get; } = server;
}
