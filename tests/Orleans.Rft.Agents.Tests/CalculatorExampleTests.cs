using System.Text.Json.Nodes;
using Orleans.Rft.Agents.Tools;

namespace Orleans.Rft.Agents.Tests;

/// <summary>The calculator-tools example's MCP server, over the same client the silo uses, and its SFT data's agreement with what the agent offers.</summary>
public sealed class CalculatorExampleTests : IAsyncLifetime
{
    static readonly string Folder = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "examples", "calculator-tools"));
    static readonly McpServerSpec Server = new("calculator", "python3", ["calculator_server.py"], new Dictionary<string, string>(), null, Folder);
    readonly McpToolbox toolbox = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await toolbox.DisposeAsync();

    [Theory]
    [InlineData("4685 + 5826", "10511", false)]
    [InlineData("382 * 47", "17954", false)]
    [InlineData("(2 - 9) * 3", "-21", false)]
    [InlineData("__import__('os')", "error: only integers with +, - and * are allowed", true)]
    [InlineData("1 +", "error: ", true)]
    public async Task The_calculator_answers_integer_arithmetic_and_refuses_anything_else_as_a_tool_error(string expression, string expected, bool error)
    {
        var result = await toolbox.CallAsync(Server, "calculate", new JsonObject { ["expression"] = expression }, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal(error, result.IsError);
        Assert.StartsWith(expected, result.Text);
        if (!error) Assert.Equal(expected, result.Text);
    }

    [Fact]
    public async Task The_sft_rows_render_the_tool_exactly_as_the_agent_offers_it_from_the_server()
    {
        var offered = await OfferedTools.ResolveAsync([Server], toolbox, null, CancellationToken.None);
        var function = Assert.Single(offered.Functions);
        var rows = File.ReadLines(Path.Combine(Folder, "sft.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.All(rows, r => Assert.Equal(function.ToJsonString(), Assert.Single(r["tools"]!.AsArray())!.ToJsonString()));
    }
}
