using Orleans.Rft.Grains.Jobs.Spec;
using System.Text.Json.Nodes;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.Engine.Presets;

namespace Orleans.Rft.Client.Tests;

/// <summary><c>agent:</c> in a job file: both types accepted, bad fields named with their line, stdio servers run in the job file's folder.</summary>
public sealed class AgentJobSpecTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "orleans-rft-agent-spec-tests", Guid.NewGuid().ToString("N")[..8]);

    public AgentJobSpecTests()
    {
        Directory.CreateDirectory(dir);
        TinyModelPresets.WriteTokenizer(Path.Combine(dir, "model"));
        File.WriteAllText(Path.Combine(dir, "model", "config.json"), TinyModelPresets.Presets["micro"].ToJson());
        File.WriteAllText(Path.Combine(dir, "train.jsonl"), """
            {"messages": [{"role": "user", "content": "What is 123456 * 654321?"}], "ground_truth": "80779853376"}
            """);
    }

    const string Base = """
        base_model: model
        dataset: train.jsonl
        evaluator:
          type: numeric

        """;

    const string Tools = Base + """
        agent:
          type: tools
          max_turns: 3
          tool_timeout_seconds: 5
          mcp_servers:
            - name: calculator
              command: python3
              args: [calculator.py]
              env: {PRECISION: "10"}
            - name: search
              url: http://localhost:9000/mcp
            - name: pinned
              command: ./server
              cwd: servers/pinned

        """;

    const string Remote = """
        base_model: model
        dataset: train.jsonl
        evaluator:
          type: agent_reported
        agent:
          type: remote
          url: http://localhost:8080/
          timeout_seconds: 60
          max_concurrent_rollouts: 8
          poll_interval_seconds: 0.5
          headers: {X-Team: rl}

        """;

    string Write(string yaml, string name = "job.yaml")
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public void A_tools_agent_is_accepted_and_a_stdio_servers_cwd_is_the_job_files_folder()
    {
        var spec = JobSpecParser.Parse(Write(Tools));
        var agent = JsonNode.Parse(spec.AgentJson!)!.AsObject();
        Assert.Equal("tools", agent["type"]!.GetValue<string>());
        var servers = agent["mcp_servers"]!.AsArray();
        Assert.Equal(dir, servers[0]!["cwd"]!.GetValue<string>());
        Assert.Null(servers[1]!["cwd"]);                                  // a URL server has no folder
        Assert.Equal(Path.Combine(dir, "servers", "pinned"), servers[2]!["cwd"]!.GetValue<string>());
        var read = (Orleans.Rft.Agents.ToolsAgentSpec)Orleans.Rft.Agents.AgentSpec.Parse(spec.AgentJson!);
        Assert.Equal((3, 5.0), (read.MaxTurns, read.ToolTimeoutSeconds));
        Assert.Equal("10", read.McpServers[0].Env["PRECISION"]);
        Assert.Equal(dir, read.McpServers[0].Cwd);
    }

    [Fact]
    public void A_remote_agent_is_accepted_with_its_settings_and_agent_reported_is_allowed_with_it()
    {
        var spec = JobSpecParser.Parse(Write(Remote));
        var read = (Orleans.Rft.Agents.RemoteAgentSpec)Orleans.Rft.Agents.AgentSpec.Parse(spec.AgentJson!);
        Assert.Equal(("http://localhost:8080", 60.0, 8, 0.5), (read.Url, read.TimeoutSeconds, read.MaxConcurrentRollouts, read.PollIntervalSeconds));
        Assert.Equal("rl", read.Headers["X-Team"]);
    }

    [Fact]
    public void A_job_without_an_agent_has_none()
    {
        Assert.Null(JobSpecParser.Parse(Write(Base)).AgentJson);
    }

    [Theory]
    [InlineData("max_turns: 3", "max_turns: 0", "agent.max_turns", 7)]
    [InlineData("max_turns: 3", "max_turns: three", "agent.max_turns", 7)]
    [InlineData("tool_timeout_seconds: 5", "tool_timeout_secs: 5", "agent.tool_timeout_secs", 8)]
    [InlineData("    - name: search\n      url: http://localhost:9000/mcp", "    - name: search\n      url: ftp://x", "agent.mcp_servers[1].url", 15)]
    [InlineData("    - name: search\n      url: http://localhost:9000/mcp", "    - name: search\n      command: a\n      url: http://x", "agent.mcp_servers[1]", 0)]
    [InlineData("    - name: search", "    - name: calculator", "agent.mcp_servers[1].name", 0)]
    [InlineData("type: tools", "type: magic", "agent.type", 6)]
    public void A_bad_tools_field_is_named_with_its_line(string good, string bad, string field, int line)
    {
        var yaml = Tools.Replace(good, bad);
        Assert.NotEqual(Tools, yaml);
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(Write(yaml)));
        Assert.Contains(field, e.Message);
        if (line > 0) Assert.Contains($"job.yaml:{line}:", e.Message);
    }

    [Theory]
    [InlineData("url: http://localhost:8080/", "url: localhost", "agent.url")]
    [InlineData("timeout_seconds: 60", "timeout_seconds: 0", "agent.timeout_seconds")]
    [InlineData("max_concurrent_rollouts: 8", "max_concurrent_rollouts: -1", "agent.max_concurrent_rollouts")]
    [InlineData("headers: {X-Team: rl}", "headers: {X-Team: [rl]}", "agent.headers.X-Team")]
    [InlineData("poll_interval_seconds: 0.5", "poll_interval: 0.5", "agent.poll_interval")]
    public void A_bad_remote_field_is_named(string good, string bad, string field)
    {
        var yaml = Remote.Replace(good, bad);
        Assert.NotEqual(Remote, yaml);
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(Write(yaml)));
        Assert.Contains(field, e.Message);
    }

    [Fact]
    public void Agent_reported_without_a_remote_agent_is_refused_naming_the_fix()
    {
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(Write(Tools.Replace("type: numeric", "type: agent_reported"))));
        Assert.Contains("evaluator.type", e.Message);
        Assert.Contains("agent: {type: remote", e.Message);
        Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(Write(Base.Replace("type: numeric", "type: agent_reported"))));
    }

    public void Dispose()
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }
}
