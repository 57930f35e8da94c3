using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Orleans.Rft.Agents.Tools;

/// <summary>
/// One MCP server as this silo uses it: a client session (a stdio child process or a streamable-HTTP
/// endpoint) opened on first use and shared by every rollout, with its tool list read once per session.
/// When the session has ended (the process exited, the endpoint went away) the next use opens a new one
/// and reads the tools again; the call that met the dead session fails with
/// <see cref="McpServerUnavailableException"/>.
/// </summary>
sealed class McpServerConnection(McpServerSpec spec, ILoggerFactory loggers, TimeSpan startTimeout) : IAsyncDisposable
{
    /// <summary>Starting a server and listing its tools (an interpreter's start-up, imports): generous, but bounded.</summary>
    public static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a failed start is remembered: the rollouts that waited on it, and those that come
    /// within this time, get its error at once instead of each making its own start attempt in turn
    /// (a server that hangs at start-up would otherwise cost every rollout a whole start timeout).
    /// </summary>
    public static readonly TimeSpan FailureMemory = TimeSpan.FromSeconds(30);

    TimeSpan StartTimeout => startTimeout;

    /// <summary>How long a failed call waits for the session to report its end before it is judged a tool error (the transport closes a moment after the process dies).</summary>
    static readonly TimeSpan DeathGrace = TimeSpan.FromMilliseconds(500);

    sealed record Session(McpClient Client, IReadOnlyList<Tool> Tools, McpStdioProcess? Process);

    readonly SemaphoreSlim gate = new(1, 1);
    readonly ILogger log = loggers.CreateLogger<McpToolbox>();
    Session? current;
    (DateTime Until, string Reason)? lastFailure;
    bool disposed;

    public string Name => spec.Name;

    /// <summary>How many sessions were opened (1 after the first use; each restart adds one).</summary>
    public int Starts { get; private set; }

    /// <summary>The identity of a server spec: two jobs naming the same command, arguments, environment and folder share one process.</summary>
    public static string Key(McpServerSpec s) => JsonSerializer.Serialize(new object?[]
    {
        s.Name, s.Command, s.Args, s.Env.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => new[] { e.Key, e.Value }), s.Url, s.Cwd,
    });

    int inFlight;                                      // uses between their start and their end: an idle stop waits for none
    long lastUsed = Environment.TickCount64;

    public async Task<IReadOnlyList<Tool>> ToolsAsync(CancellationToken cancellation)
    {
        Interlocked.Increment(ref inFlight);
        try { return (await SessionAsync(cancellation)).Tools; }
        finally { Used(); }
    }

    /// <summary>Calls <paramref name="tool"/>; a timeout, a tool error or an error answer is a result the model reads, a dead server an exception.</summary>
    public async Task<McpToolResult> CallAsync(string tool, JsonObject arguments, TimeSpan timeout, CancellationToken cancellation)
    {
        Interlocked.Increment(ref inFlight);
        try { return await CallInSessionAsync(tool, arguments, timeout, cancellation); }
        finally { Used(); }
    }

    void Used()
    {
        Volatile.Write(ref lastUsed, Environment.TickCount64);
        Interlocked.Decrement(ref inFlight);
    }

    /// <summary>
    /// Stops the session when nothing has used it for <paramref name="idle"/> (the jobs that named the server
    /// have ended, say): its process exits and the next use starts it again. The session is taken out of use
    /// first and put back if a use began meanwhile, so a call never meets a session closed under it.
    /// </summary>
    public async Task<bool> StopIfIdleAsync(TimeSpan idle)
    {
        if (Volatile.Read(ref inFlight) > 0 || Environment.TickCount64 - Volatile.Read(ref lastUsed) < idle.TotalMilliseconds || Volatile.Read(ref current) is null) return false;
        await gate.WaitAsync();
        Session? stopped;
        try
        {
            stopped = current;
            if (stopped is null || disposed) return false;
            Volatile.Write(ref current, null);                 // a use that starts now waits on the gate for a session
            if (Volatile.Read(ref inFlight) > 0) { Volatile.Write(ref current, stopped); return false; } // one began: keep it
        }
        finally { gate.Release(); }
        log.LogInformation("MCP server {Server} stopped after {Minutes:0.#} idle minutes; its next use starts it again", spec.Name, idle.TotalMinutes);
        await Close(stopped);
        return true;
    }

    async Task<McpToolResult> CallInSessionAsync(string tool, JsonObject arguments, TimeSpan timeout, CancellationToken cancellation)
    {
        var session = await SessionAsync(cancellation);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        var request = new CallToolRequestParams
        {
            Name = tool,
            Arguments = arguments.ToDictionary(a => a.Key, a => JsonSerializer.SerializeToElement(a.Value)),
        };
        try
        {
            var result = await session.Client.CallToolAsync(request, deadline.Token);
            return new McpToolResult(Text(result), result.IsError == true);
        }
        catch (McpProtocolException e) when (!cancellation.IsCancellationRequested)
        {
            return new McpToolResult($"error: the tool '{tool}' failed: {e.Message}", true); // the server answered: it is alive
        }
        catch (Exception e) when (!cancellation.IsCancellationRequested)
        {
            if (await Ended(session))
            {
                log.LogWarning("MCP server {Server} stopped during a call of {Tool}: {Details}", spec.Name, tool, Describe(session));
                throw new McpServerUnavailableException(spec.Name, $"stopped during a call of '{tool}' ({Describe(session)}); it is restarted on its next use.", e);
            }
            return e switch
            {
                OperationCanceledException when deadline.IsCancellationRequested =>
                    new McpToolResult($"error: the tool '{tool}' did not answer within {timeout.TotalSeconds:0.###} s.", true),
                HttpRequestException h => throw Unreachable(session, h),
                _ => new McpToolResult($"error: the tool '{tool}' failed: {e.Message}", true),
            };
        }
    }

    /// <summary>An HTTP server that refuses a call is gone for this session: the next use reconnects.</summary>
    Exception Unreachable(Session session, HttpRequestException e)
    {
        _ = Forget(session);
        return new McpServerUnavailableException(spec.Name, $"at {spec.Url} could not be reached ({e.Message}); it is reconnected on its next use.", e);
    }

    async Task Forget(Session session)
    {
        await gate.WaitAsync();
        try { if (ReferenceEquals(current, session)) current = null; }
        finally { gate.Release(); }
        await Close(session);
    }

    static async Task<bool> Ended(Session session)
    {
        var completion = session.Client.Completion;
        return await Task.WhenAny(completion, Task.Delay(DeathGrace)) == completion;
    }

    static string Describe(Session session) => session.Process is { } p ? p.Describe() : session.Client.Completion.IsCompletedSuccessfully
        ? session.Client.Completion.Result switch
        {
            var d => d.Exception?.Message ?? "session closed",
        }
        : "session closed";

    /// <summary>The live session, opening one when there is none or the last has ended.</summary>
    async Task<Session> SessionAsync(CancellationToken cancellation)
    {
        var s = Volatile.Read(ref current);
        if (s is not null && !s.Client.Completion.IsCompleted) return s;
        ThrowIfRecentlyFailed();
        // Bounded: the holder's start attempt ends within the start timeout, so a longer wait means it is stuck.
        if (!await gate.WaitAsync(StartTimeout + TimeSpan.FromSeconds(5), cancellation))
            throw new McpServerUnavailableException(spec.Name, $"another rollout's start of it did not finish within {StartTimeout.TotalSeconds:0} s.");
        try
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (current is not null && !current.Client.Completion.IsCompleted) return current;
            ThrowIfRecentlyFailed(); // the start this caller waited for failed: its error, now
            if (current is not null) { await Close(current); current = null; }
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            deadline.CancelAfter(StartTimeout);
            McpClient? client = null;
            McpStdioProcess? process = null;
            try
            {
                var options = new McpClientOptions
                {
                    ClientInfo = new Implementation { Name = "orleans-rft", Version = typeof(McpServerConnection).Assembly.GetName().Version?.ToString() ?? "0" },
                    InitializationTimeout = StartTimeout + TimeSpan.FromSeconds(1), // the deadline below is the bound; this only backs it up
                };
                IClientTransport transport;
                if (spec.Url is string url)
                    transport = new HttpClientTransport(new HttpClientTransportOptions { Endpoint = new Uri(url), TransportMode = HttpTransportMode.StreamableHttp, Name = spec.Name, ConnectionTimeout = StartTimeout }, loggers);
                else transport = (process = McpStdioProcess.Start(spec, loggers)).Transport;
                client = await McpClient.CreateAsync(transport, options, loggers, deadline.Token);
                var tools = await client.ListToolsAsync(cancellationToken: deadline.Token);
                current = new Session(client, tools.Select(t => t.ProtocolTool).ToList(), process);
                Starts++;
                lastFailure = null;
                log.LogInformation("MCP server {Server} {Action}: {Tools} tools", spec.Name, Starts == 1 ? "started" : "restarted", current.Tools.Count);
                return current;
            }
            catch (Exception e) when (!cancellation.IsCancellationRequested)
            {
                if (client is not null) await Close(client);
                string? died = null;
                if (process is not null) { await process.DisposeAsync(); died = process.Describe(); }
                var what = spec.Url is not null ? $"at {spec.Url} could not be reached" : $"could not be started ('{spec.Command} {string.Join(' ', spec.Args)}' in {spec.Cwd ?? Environment.CurrentDirectory})";
                var why = e is OperationCanceledException or TimeoutException || deadline.IsCancellationRequested ? $"no answer within {StartTimeout.TotalSeconds:0} s" : e.Message;
                if (died is not null && died != "session closed") why = $"{why} ({died})";
                lastFailure = (DateTime.UtcNow + FailureMemory, $"{what}: {why}");
                throw new McpServerUnavailableException(spec.Name, $"{what}: {why}", e);
            }
        }
        finally { gate.Release(); }
    }

    void ThrowIfRecentlyFailed()
    {
        if (lastFailure is { } f && DateTime.UtcNow < f.Until)
            throw new McpServerUnavailableException(spec.Name, $"{f.Reason} (a start within the last {FailureMemory.TotalSeconds:0} s failed; it is tried again after {f.Until:HH:mm:ss} UTC).");
    }

    /// <summary>The text the model reads: text blocks joined; other blocks named; structured content when there is nothing else.</summary>
    static string Text(CallToolResult result)
    {
        var sb = new StringBuilder();
        foreach (var block in result.Content ?? [])
        {
            if (sb.Length > 0) sb.Append('\n');
            sb.Append(block is TextContentBlock t ? t.Text : $"[{block.Type} content]");
        }
        if (sb.Length == 0 && result.StructuredContent is JsonElement structured) sb.Append(structured.GetRawText());
        return sb.ToString();
    }

    static async Task Close(Session session)
    {
        await Close(session.Client);
        if (session.Process is { } p) await p.DisposeAsync();
    }

    static async Task Close(McpClient client)
    {
        try { await client.DisposeAsync(); }
        catch (Exception) { } // a session that already failed may fail again while closing; it is gone either way
    }

    public async ValueTask DisposeAsync()
    {
        await gate.WaitAsync();
        try
        {
            disposed = true;
            if (current is not null) await Close(current);
            current = null;
        }
        finally { gate.Release(); }
    }
}
