namespace Orleans.Rft.Agents.Remote;

/// <summary>
/// Where remote agents reach this silo's model: the silo's public base URL (<c>Rft:PublicUrl</c>), or why
/// they cannot (the HTTP endpoint is off, or not mapped in this host). The silo sets it; the HTTP
/// surface marks it served when it maps the <c>/rollouts</c> routes.
/// </summary>
public sealed class RemoteAgentEndpoint(string? publicBaseUrl, string? unavailable)
{
    volatile bool served;

    /// <summary>The base URL, without a trailing slash (<c>http://10.0.0.5:8080</c>).</summary>
    public string? PublicBaseUrl { get; } = publicBaseUrl?.TrimEnd('/');

    /// <summary>Called by the HTTP surface once <c>/rollouts/{id}/v1</c> is routed in this host.</summary>
    public void MarkServed() => served = true;

    /// <summary>The rollout's OpenAI base URL, or an error saying what to configure.</summary>
    public string ModelBaseUrl(string rolloutId)
    {
        if (unavailable is not null) throw new InvalidOperationException(unavailable);
        if (!served || PublicBaseUrl is null)
            throw new InvalidOperationException("remote agents call the model back through the silo's HTTP endpoint, which this host does not serve; host the silo with AddRftHttp + MapRftHttp (the silo host and `rft run` do) and give Rft:HttpPort a port.");
        return $"{PublicBaseUrl}/rollouts/{Uri.EscapeDataString(rolloutId)}/v1";
    }

    /// <summary>Fails at once, naming the setting, when remote agents cannot work on this silo.</summary>
    public void EnsureAvailable() => ModelBaseUrl("check");
}
