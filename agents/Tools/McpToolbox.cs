using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Protocol;

namespace Orleans.Rft.Agents.Tools;

/// <summary>
/// The silo's MCP servers (one per distinct spec), shared by every tools rollout on the silo: a stdio
/// server is started once, on first use, and restarted by the next use after it dies; a streamable-HTTP
/// server is connected by URL. Tool lists are cached per session. Disposing stops the child processes.
/// </summary>
public sealed class McpToolbox(ILoggerFactory? loggers = null) : IAsyncDisposable
{
    readonly ConcurrentDictionary<string, McpServerConnection> servers = new();
    readonly ILoggerFactory loggers = loggers ?? NullLoggerFactory.Instance;

    /// <summary>How long a server may take to start and list its tools before its start fails (and is remembered as failed for a while).</summary>
    public TimeSpan StartTimeout { get; init; } = McpServerConnection.DefaultStartTimeout;

    McpServerConnection For(McpServerSpec spec) => servers.GetOrAdd(McpServerConnection.Key(spec), _ => new McpServerConnection(spec, loggers, StartTimeout));

    /// <summary>The server's tools (from the current session; a dead or new server is started first).</summary>
    public Task<IReadOnlyList<Tool>> ToolsAsync(McpServerSpec server, CancellationToken cancellation) => For(server).ToolsAsync(cancellation);

    /// <summary>Calls a tool with a deadline of <paramref name="timeout"/>; throws <see cref="McpServerUnavailableException"/> only when the server is gone.</summary>
    public Task<McpToolResult> CallAsync(McpServerSpec server, string tool, JsonObject arguments, TimeSpan timeout, CancellationToken cancellation) =>
        For(server).CallAsync(tool, arguments, timeout, cancellation);

    /// <summary>How many times the server's session was opened on this silo (0 before its first use).</summary>
    public int Starts(McpServerSpec server) => servers.TryGetValue(McpServerConnection.Key(server), out var c) ? c.Starts : 0;

    public async ValueTask DisposeAsync()
    {
        foreach (var server in servers.Values) await server.DisposeAsync();
        servers.Clear();
    }
}
