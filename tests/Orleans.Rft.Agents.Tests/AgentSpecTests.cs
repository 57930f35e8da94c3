using System.Text.Json.Nodes;
using Orleans.Rft.Agents;
using Orleans.Rft.Evaluators;

namespace Orleans.Rft.Agents.Tests;

/// <summary>The <c>agent:</c> mapping: defaults as documented, and every bad field named with its path.</summary>
public sealed class AgentSpecTests
{
    [Fact]
    public void Tools_and_remote_specs_read_with_their_defaults()
    {
        var tools = Assert.IsType<ToolsAgentSpec>(AgentSpec.Parse("""{"type":"tools","mcp_servers":[{"name":"calc","command":"python3","args":["calc.py"]},{"name":"web","url":"http://localhost:9000/mcp"}]}"""));
        Assert.Equal((4, 10.0, 300.0), (tools.MaxTurns, tools.ToolTimeoutSeconds, tools.TimeoutSeconds));
        Assert.Equal(["calc.py"], tools.McpServers[0].Args);
        Assert.Equal("http://localhost:9000/mcp", tools.McpServers[1].Url);
        var remote = Assert.IsType<RemoteAgentSpec>(AgentSpec.Parse("""{"type":"remote","url":"http://agent:8000/","headers":{"X-Team":"a"}}"""));
        Assert.Equal(("http://agent:8000", 120.0, 16, 1.0), (remote.Url, remote.TimeoutSeconds, remote.MaxConcurrentRollouts, remote.PollIntervalSeconds));
        Assert.Equal("a", remote.Headers["X-Team"]);
        var authorised = Assert.IsType<RemoteAgentSpec>(AgentSpec.Parse("""{"type":"remote","url":"https://agent/base","headers":{"Authorization":"Bearer k","X-Api-Key":"k 1"}}"""));
        Assert.Equal("Bearer k", authorised.Headers["Authorization"]); // authorisation and custom headers pass
    }

    [Theory]
    [InlineData("""{"type":"tool"}""", "agent.type")]
    [InlineData("""{"type":"tools"}""", "agent.mcp_servers")]
    [InlineData("""{"type":"tools","max_turns":0,"mcp_servers":[{"name":"a","command":"x"}]}""", "agent.max_turns")]
    [InlineData("""{"type":"tools","mcp_servers":[{"name":"a"}]}""", "agent.mcp_servers[0]")]
    [InlineData("""{"type":"tools","mcp_servers":[{"name":"a","command":"x","url":"http://h"}]}""", "agent.mcp_servers[0]")]
    [InlineData("""{"type":"tools","mcp_servers":[{"name":"a","command":"x","argz":[]}]}""", "agent.mcp_servers[0].argz")]
    [InlineData("""{"type":"tools","mcp_servers":[{"name":"a","url":"ftp://h"}]}""", "agent.mcp_servers[0].url")]
    [InlineData("""{"type":"tools","timeout_seconds":541,"mcp_servers":[{"name":"a","command":"x"}]}""", "agent.timeout_seconds")]
    [InlineData("""{"type":"tools","tool_timeout_seconds":3600,"mcp_servers":[{"name":"a","command":"x"}]}""", "agent.tool_timeout_seconds")]
    [InlineData("""{"type":"tools","max_turn":3,"mcp_server":[]}""", "agent.max_turn")]
    [InlineData("""{"type":"tools","mcp_servers":[{"nam":"a","command":"x"}]}""", "agent.mcp_servers[0].nam")]
    [InlineData("""{"type":"tools","mcp_servers":[{"name":"a","command":"python3 server.py"}]}""", "agent.mcp_servers[0].command")]
    [InlineData("""{"type":"remote","timeout":60}""", "agent.timeout")]
    [InlineData("""{"type":"remote"}""", "agent.url")]
    [InlineData("""{"type":"remote","url":"agent:8000"}""", "agent.url")]
    [InlineData("""{"type":"remote","url":"http://a","timeout_seconds":0}""", "agent.timeout_seconds")]
    [InlineData("""{"type":"remote","url":"http://a","poll_every":1}""", "agent.poll_every")]
    [InlineData("""{"type":"remote","url":"http://a/base?x=1"}""", "agent.url")]
    [InlineData("""{"type":"remote","url":"http://a/base#top"}""", "agent.url")]
    [InlineData("""{"type":"remote","url":"http://a","headers":{"Bad Name":"v"}}""", "agent.headers.Bad Name")]
    [InlineData("""{"type":"remote","url":"http://a","headers":{"X-Team:":"v"}}""", "agent.headers.X-Team:")]
    [InlineData("""{"type":"remote","url":"http://a","headers":{"Content-Type":"text/plain"}}""", "agent.headers.Content-Type")]
    [InlineData("""{"type":"remote","url":"http://a","headers":{"Content-Length":"5"}}""", "agent.headers.Content-Length")]
    [InlineData("""{"type":"remote","url":"http://a","headers":{"Host":"evil"}}""", "agent.headers.Host")]
    [InlineData("""{"type":"remote","url":"http://a","headers":{"Content-Encoding":"gzip"}}""", "agent.headers.Content-Encoding")]
    [InlineData("""{"type":"remote","url":"http://a","headers":{"X-Team":"a\r\nX-Evil: 1"}}""", "agent.headers.X-Team")]
    public void A_bad_field_is_named_by_its_path(string json, string path)
    {
        var e = Assert.Throws<SpecException>(() => AgentSpec.Read(JsonNode.Parse(json)));
        Assert.Equal(path, e.Path);
    }

    [Fact]
    public void A_tool_timeout_longer_than_the_rollouts_deadline_is_refused_naming_both_fields()
    {
        var e = Assert.Throws<SpecException>(() => AgentSpec.Parse("""{"type":"tools","timeout_seconds":60,"tool_timeout_seconds":120,"mcp_servers":[{"name":"a","command":"x"}]}"""));
        Assert.Equal("agent.tool_timeout_seconds", e.Path);
        Assert.Contains("agent.timeout_seconds", e.Message);
        var ok = Assert.IsType<ToolsAgentSpec>(AgentSpec.Parse("""{"type":"tools","timeout_seconds":540,"tool_timeout_seconds":540,"mcp_servers":[{"name":"a","command":"x"}]}"""));
        Assert.Equal(540.0, ok.TimeoutSeconds);
    }
}
