using System.Text.Json.Nodes;
using Orleans.Rft.Evaluators;

namespace Orleans.Rft.Agents;

/// <summary>The job's <c>agent:</c> mapping (DESIGN §5): tools inside the cluster over MCP, or a remote agent server.</summary>
public abstract record AgentSpec
{
    public static readonly string[] Types = ["tools", "remote"];

    /// <summary>Reads and checks <c>agent:</c>; errors name the field (<c>agent.max_turns</c>) and the fix.</summary>
    public static AgentSpec Read(JsonNode? node, string at = "agent")
    {
        if (node is not JsonObject o) throw new SpecException(at, $"must be a mapping with a 'type' ({string.Join(", ", Types)}).");
        var r = new SpecReader(o, at);
        var type = r.RequiredString("type");
        // A misspelled key is named (with its likely spelling) before any "is required" it causes.
        if (type == "tools") RejectUnknownFirst(r, "max_turns", "tool_timeout_seconds", "timeout_seconds", "mcp_servers");
        else if (type == "remote") RejectUnknownFirst(r, "url", "timeout_seconds", "max_concurrent_rollouts", "poll_interval_seconds", "headers");
        AgentSpec spec = type switch
        {
            "tools" => ToolsAgentSpec.Read(r),
            "remote" => RemoteAgentSpec.Read(r),
            _ => throw new SpecException(r.At("type"), $"'{type}' is not an agent type; use one of {string.Join(", ", Types)}."),
        };
        r.RejectUnknownKeys();
        return spec;
    }

    public static AgentSpec Parse(string json) => Read(JsonNode.Parse(json));

    /// <summary>Marks <paramref name="known"/> as used and refuses any other key now, before the reads that would report a missing one instead.</summary>
    internal static void RejectUnknownFirst(SpecReader r, params string[] known)
    {
        foreach (var k in known) r.Has(k);
        r.RejectUnknownKeys();
    }
}

/// <summary>One MCP server: a stdio command started once per silo (and restarted if it dies) in <see cref="Cwd"/> (the job file's folder unless given), or a streamable-HTTP URL.</summary>
public sealed record McpServerSpec(string Name, string? Command, IReadOnlyList<string> Args, IReadOnlyDictionary<string, string> Env, string? Url, string? Cwd = null);

/// <summary><c>agent: {type: tools, max_turns, tool_timeout_seconds, timeout_seconds, mcp_servers}</c>.</summary>
public sealed record ToolsAgentSpec(int MaxTurns, double ToolTimeoutSeconds, IReadOnlyList<McpServerSpec> McpServers, double TimeoutSeconds = ToolsAgentSpec.DefaultTimeoutSeconds) : AgentSpec
{
    public const double DefaultTimeoutSeconds = 300;

    internal static ToolsAgentSpec Read(SpecReader r)
    {
        var maxTurns = r.Int("max_turns", 4, 1, 64);
        // A whole rollout's deadline: a step's rollouts are one grain call of at most 10 minutes
        // (IRolloutWorkerGrain.Generate), so a rollout ends well inside it, as a remote agent's does.
        var deadline = r.Double("timeout_seconds", DefaultTimeoutSeconds, 1, RemoteAgentSpec.MaxTimeoutSeconds);
        var timeout = r.Double("tool_timeout_seconds", 10, 0.001, RemoteAgentSpec.MaxTimeoutSeconds);
        if (timeout > deadline)
            throw new SpecException(r.At("tool_timeout_seconds"), $"{timeout} s is longer than {r.At("timeout_seconds")} ({deadline} s), the whole rollout's deadline; lower tool_timeout_seconds or raise timeout_seconds (at most {RemoteAgentSpec.MaxTimeoutSeconds}).");
        var servers = new List<McpServerSpec>();
        if (r.Raw("mcp_servers") is JsonNode list)
        {
            if (list is not JsonArray items) throw new SpecException(r.At("mcp_servers"), "must be a list of {name, command, args, env} or {name, url}.");
            for (int i = 0; i < items.Count; i++)
            {
                var at = $"{r.At("mcp_servers")}[{i}]";
                if (items[i] is not JsonObject item) throw new SpecException(at, "must be a mapping {name, command, args, env} or {name, url}.");
                var s = new SpecReader(item, at);
                RejectUnknownFirst(s, "name", "command", "args", "env", "url", "cwd");
                var name = s.RequiredString("name");
                var command = s.String("command");
                var url = s.String("url");
                if ((command is null) == (url is null)) throw new SpecException(at, "give exactly one of 'command' (a stdio server) or 'url' (streamable HTTP).");
                if (url is not null && !(Uri.TryCreate(url, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"))
                    throw new SpecException(s.At("url"), $"'{url}' is not an http(s) URL.");
                var args = s.StringList("args") ?? [];
                if (command is not null && args.Count == 0 && command.Trim().Contains(' ') && !File.Exists(command))
                    throw new SpecException(s.At("command"), $"'{command}' is one string; the command is run without a shell, so give its arguments as a list: command: {command.Trim().Split(' ')[0]}, args: [{string.Join(", ", command.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))}].");
                var cwd = s.String("cwd");
                var env = new Dictionary<string, string>();
                if (s.Object("env") is JsonObject e)
                    foreach (var (k, v) in e)
                        env[k] = v is JsonValue jv && jv.TryGetValue<string>(out var str) ? str : throw new SpecException($"{s.At("env")}.{k}", "must be a string.");
                s.RejectUnknownKeys();
                if (servers.Any(x => x.Name == name)) throw new SpecException(s.At("name"), $"'{name}' names two servers; give each its own name.");
                servers.Add(new McpServerSpec(name, command, args, env, url, cwd));
            }
        }
        if (servers.Count == 0) throw new SpecException(r.At("mcp_servers"), "is required: at least one MCP server ({name, command, args} or {name, url}).");
        return new ToolsAgentSpec(maxTurns, timeout, servers, deadline);
    }
}

/// <summary><c>agent: {type: remote, url, timeout_seconds, max_concurrent_rollouts, poll_interval_seconds, headers}</c> (Eval Protocol's remote rollout processor).</summary>
public sealed record RemoteAgentSpec(string Url, double TimeoutSeconds, int MaxConcurrentRollouts, double PollIntervalSeconds, IReadOnlyDictionary<string, string> Headers) : AgentSpec
{
    public const double MaxTimeoutSeconds = 540;

    internal static RemoteAgentSpec Read(SpecReader r)
    {
        var url = r.RequiredString("url").TrimEnd('/');
        if (!(Uri.TryCreate(url, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"))
            throw new SpecException(r.At("url"), $"'{url}' is not an http(s) URL of the agent server.");
        // The silo appends /init and /status?rollout_id=… to the URL: a query or fragment would swallow them.
        if (u.Query.Length > 0 || u.Fragment.Length > 0 || url.Contains('?') || url.Contains('#'))
            throw new SpecException(r.At("url"), $"'{url}' has a query or fragment; give the agent server's base URL (such as http://agent:8000/base), to which /init and /status are appended.");
        // A step's rollouts are one grain call of at most 10 minutes (IRolloutWorkerGrain.Generate): a rollout ends well inside it.
        var timeout = r.Double("timeout_seconds", 120, 1, MaxTimeoutSeconds);
        var concurrency = r.Int("max_concurrent_rollouts", 16, 1, 4096);
        var poll = r.Double("poll_interval_seconds", 1, 0.01, 600);
        var headers = new Dictionary<string, string>();
        if (r.Object("headers") is JsonObject h)
            foreach (var (k, v) in h)
            {
                var at = $"{r.At("headers")}.{k}";
                var value = v is JsonValue jv && jv.TryGetValue<string>(out var s) ? s : throw new SpecException(at, "must be a string.");
                CheckHeader(at, k, value);
                headers[k] = value;
            }
        return new RemoteAgentSpec(url, timeout, concurrency, poll, headers);
    }

    /// <summary>
    /// Headers the HTTP client sets itself from the request (RFC 9110 §7.2, §8.6, RFC 9112 §6–7): one
    /// given here would be refused or contradict the request, so it is refused at parse time instead.
    /// </summary>
    static readonly HashSet<string> Restricted = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Length", "Content-Type", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "TE", "Trailer", "Expect", "Proxy-Connection",
    };

    /// <summary>A header name is an RFC 9110 token (§5.6.2); a value has no control characters (§5.5), so no header can be split or smuggled.</summary>
    static void CheckHeader(string at, string name, string value)
    {
        if (name.Length == 0 || !name.All(c => c < 128 && (char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c))))
            throw new SpecException(at, $"'{name}' is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only).");
        if (Restricted.Contains(name))
            throw new SpecException(at, $"'{name}' is set by the HTTP client from the request itself; remove it (give authorisation or custom headers such as X-Team).");
        using var probe = new System.Net.Http.HttpRequestMessage();
        if (!probe.Headers.TryAddWithoutValidation(name, "x"))
            throw new SpecException(at, $"'{name}' is a body (content) header, which .NET cannot send as a request header; remove it.");
        if (value.Any(c => c is '\r' or '\n' or '\0' || (char.IsControl(c) && c != '\t')))
            throw new SpecException(at, "holds a line break or control character, which an HTTP header value cannot carry; remove it.");
    }
}
