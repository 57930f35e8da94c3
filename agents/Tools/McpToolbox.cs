using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Protocol;

namespace Orleans.Rft.Agents.Tools;

/// <summary>
/// The silo's MCP servers (one per distinct spec), shared by every tools rollout on the silo: a stdio
/// server is started once, on first use, and restarted by the next use after it dies; a streamable-HTTP
/// server is connected by URL. Tool lists are cached per session. A server unused for <see cref="IdleTimeout"/>
/// is stopped (a job that named it has ended) and started again by its next use. Disposing stops the child processes.
/// </summary>
public sealed class McpToolbox(ILoggerFactory? loggers = null) : IAsyncDisposable
{
    readonly ConcurrentDictionary<string, McpServerConnection> servers = new();
    readonly ILoggerFactory loggers = loggers ?? NullLoggerFactory.Instance;

    /// <summary>How long a server may take to start and list its tools before its start fails (and is remembered as failed for a while).</summary>
    public TimeSpan StartTimeout { get; init; } = McpServerConnection.DefaultStartTimeout;

    /// <summary>A server nothing has used for this long is stopped (its jobs have ended, say); the next use starts it again.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How often idle servers are looked for.</summary>
    public TimeSpan IdleCheckInterval { get; init; } = TimeSpan.FromMinutes(1);

    Timer? sweeper;

    McpServerConnection For(McpServerSpec spec)
    {
        if (Volatile.Read(ref sweeper) is null)
        {
            var timer = new Timer(_ => _ = StopIdle(), null, Timeout.Infinite, Timeout.Infinite);
            if (Interlocked.CompareExchange(ref sweeper, timer, null) is null) timer.Change(IdleCheckInterval, IdleCheckInterval);
            else timer.Dispose();
        }
        return servers.GetOrAdd(McpServerConnection.Key(spec), _ => new McpServerConnection(spec, loggers, StartTimeout));
    }

    async Task StopIdle()
    {
        foreach (var server in servers.Values)
            try { await server.StopIfIdleAsync(IdleTimeout); }
            catch (Exception) { } // a session that fails while closing is gone either way; the next use opens a new one
    }

    /// <summary>The server's tools (from the current session; a dead or new server is started first).</summary>
    public Task<IReadOnlyList<Tool>> ToolsAsync(McpServerSpec server, CancellationToken cancellation) => For(server).ToolsAsync(cancellation);

    /// <summary>Calls a tool with a deadline of <paramref name="timeout"/>; throws <see cref="McpServerUnavailableException"/> only when the server is gone.</summary>
    public Task<McpToolResult> CallAsync(McpServerSpec server, string tool, JsonObject arguments, TimeSpan timeout, CancellationToken cancellation) =>
        For(server).CallAsync(tool, arguments, timeout, cancellation);

    /// <summary>How many times the server's session was opened on this silo (0 before its first use).</summary>
    public int Starts(McpServerSpec server) => servers.TryGetValue(McpServerConnection.Key(server), out var c) ? c.Starts : 0;

    public async ValueTask DisposeAsync()
    {
        if (sweeper is { } timer) await timer.DisposeAsync();
        foreach (var server in servers.Values) await server.DisposeAsync();
        servers.Clear();
    }
}
