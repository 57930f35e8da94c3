using System.Text.Json.Nodes;

namespace Orleans.Rft.Agents.Tools;

/// <summary>
/// The tools one rollout may call: every MCP server's tools (the first server to name a tool owns it),
/// restricted to the names in the row's own <c>tools</c> list when it has one, as OpenAI function
/// definitions for the chat template (<c>{"type": "function", "function": {name, description, parameters}}</c>).
/// </summary>
public sealed class OfferedTools
{
    readonly Dictionary<string, McpServerSpec> owners;

    OfferedTools(List<JsonObject> functions, Dictionary<string, McpServerSpec> owners) => (Functions, this.owners) = (functions, owners);

    /// <summary>What the template renders into the prompt, in server order.</summary>
    public IReadOnlyList<JsonObject> Functions { get; }

    public IEnumerable<string> Names => owners.Keys;

    /// <summary>The server that runs <paramref name="tool"/>, or null when this rollout was not offered it.</summary>
    public McpServerSpec? Owner(string tool) => owners.GetValueOrDefault(tool);

    public static async Task<OfferedTools> ResolveAsync(IReadOnlyList<McpServerSpec> servers, McpToolbox toolbox, IReadOnlyList<JsonObject>? rowTools, CancellationToken cancellation)
    {
        var allowed = rowTools?.Select(FunctionName).Where(n => n is not null).ToHashSet(StringComparer.Ordinal);
        var functions = new List<JsonObject>();
        var owners = new Dictionary<string, McpServerSpec>(StringComparer.Ordinal);
        foreach (var server in servers)
        {
            foreach (var tool in await toolbox.ToolsAsync(server, cancellation))
            {
                if (owners.ContainsKey(tool.Name) || (allowed is not null && !allowed.Contains(tool.Name))) continue;
                owners[tool.Name] = server;
                var function = new JsonObject { ["name"] = tool.Name };
                if (tool.Description is { Length: > 0 } d) function["description"] = d;
                function["parameters"] = JsonNode.Parse(tool.InputSchema.GetRawText());
                functions.Add(new JsonObject { ["type"] = "function", ["function"] = function });
            }
        }
        return new OfferedTools(functions, owners);
    }

    /// <summary>A row's tool entry names its function as OpenAI does (<c>{"type": "function", "function": {"name"}}</c>) or flat (<c>{"name"}</c>).</summary>
    static string? FunctionName(JsonObject tool) =>
        Text((tool["function"] as JsonObject)?["name"]) ?? Text(tool["name"]);

    static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
