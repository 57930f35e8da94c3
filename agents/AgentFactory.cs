namespace Orleans.Rft.Agents;

/// <summary>One kind of agent (<c>agent.type</c>): the silo registers one per type it runs.</summary>
public interface IAgentKind
{
    string Type { get; }
    IAgent Create(AgentSpec spec);
}

/// <summary>The silo's agents by the job's <c>agent:</c> JSON; an agent is created once per distinct spec and reused across rollouts.</summary>
public sealed class AgentFactory(IEnumerable<IAgentKind> kinds)
{
    readonly Dictionary<string, IAgentKind> byType = kinds.ToDictionary(k => k.Type);
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<IAgent>> agents = new();

    public IAgent For(string agentJson) => agents.GetOrAdd(agentJson, json => new Lazy<IAgent>(() =>
    {
        var spec = AgentSpec.Parse(json);
        var type = spec switch { ToolsAgentSpec => "tools", RemoteAgentSpec => "remote", _ => spec.GetType().Name };
        return byType.TryGetValue(type, out var kind) ? kind.Create(spec)
            : throw new InvalidOperationException($"this silo runs no '{type}' agents (it runs {string.Join(", ", byType.Keys.DefaultIfEmpty("none"))}).");
    })).Value;
}
