namespace Orleans.Rft.Agents.Tools;

/// <summary><c>agent: {type: tools}</c>: tools agents over the silo's shared <see cref="McpToolbox"/>.</summary>
public sealed class ToolsAgentKind(McpToolbox toolbox) : IAgentKind
{
    public string Type => "tools";

    public IAgent Create(AgentSpec spec) => spec is ToolsAgentSpec tools
        ? new ToolsAgent(tools, toolbox)
        : throw new ArgumentException($"a tools agent needs a ToolsAgentSpec, not {spec.GetType().Name}.");
}
