using System.Net;

namespace Orleans.Rft.Agents.Remote;

/// <summary>
/// <c>agent: {type: remote}</c>: one <see cref="RemoteAgent"/> per distinct spec (so its concurrency bound
/// holds across all rollouts of that spec on this silo), sharing one HTTP client.
/// </summary>
public sealed class RemoteAgentKind(RemoteRolloutRegistry registry, RemoteAgentEndpoint endpoint) : IAgentKind
{
    // One pooled client for every remote agent server; each call sets its own timeout (RemoteAgent).
    readonly HttpClient http = new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5), // DNS changes of the agent server are seen
        ConnectTimeout = TimeSpan.FromSeconds(10),
        AutomaticDecompression = DecompressionMethods.None, // a small gzip body must not become a huge one: replies are read raw, capped
        MaxConnectionsPerServer = 1024,
    }) { Timeout = Timeout.InfiniteTimeSpan, MaxResponseContentBufferSize = RemoteAgent.MaxReplyBytes };

    public string Type => "remote";

    public IAgent Create(AgentSpec spec)
    {
        endpoint.EnsureAvailable();
        return new RemoteAgent((RemoteAgentSpec)spec, registry, endpoint, http);
    }
}
