using System.Text.Json.Nodes;
using Orleans.Rft.Client.Commands;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Client.Tests;

/// <summary><c>rft rollouts</c> shows an agent rollout's turns, tool calls, tool results, failure and extra samples, as text and as snake_case JSON.</summary>
public sealed class RolloutsAgentViewTests
{
    const string Messages = """
        [
          {"role":"assistant","content":"Let me compute.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"multiply","arguments":"{\"a\":123456,\"b\":654321}"}}]},
          {"role":"tool","tool_call_id":"call_1","content":"80779853376"},
          {"role":"assistant","content":"","tool_calls":[{"id":"call_2","type":"function","function":{"name":"divide","arguments":{"a":1,"b":0}}}]},
          {"role":"tool","tool_call_id":"call_2","name":"divide","content":"error: division by zero"},
          {"role":"assistant","content":"The product is 80779853376."}
        ]
        """;

    static Rollout Of(AgentReport? agent, int extra = 0) => new(3, 7, 1, 4, [1, 2], [3, 4, 5], [-1f, -1f, -1f], "The product is 80779853376.", "stop",
        0.9, true, "matches", new Dictionary<string, double>(), 0.4, [true, false, true], agent, extra);

    static string Text(Rollout r)
    {
        var w = new StringWriter();
        RolloutsCommand.Write(w, r);
        return w.ToString();
    }

    [Fact]
    public void An_agent_rollout_shows_its_turns_tool_calls_tool_results_and_extra_samples()
    {
        var text = Text(Of(new AgentReport(3, 2, 1, Messages), extra: 1));
        Assert.Contains("agent: 3 model calls, 2 tool calls (1 error), 1 extra sample (re-rendered history)", text);
        Assert.Contains("[1] assistant: Let me compute.", text);
        Assert.Contains("→ tool call multiply {\"a\":123456,\"b\":654321}", text);
        Assert.Contains("[2] tool result (multiply): 80779853376", text);   // named by the call it answers
        Assert.Contains("→ tool call divide {\"a\":1,\"b\":0}", text);       // object arguments shown as JSON
        Assert.Contains("[4] tool result (divide): error: division by zero", text);
        Assert.Contains("[5] assistant: The product is 80779853376.", text);
        Assert.DoesNotContain("failed", text);
    }

    [Fact]
    public void A_failed_agent_rollout_shows_its_failure_kind_and_reason()
    {
        var text = Text(Of(new AgentReport(1, 0, 0, "[]", "deadline", "no final status within timeout_seconds (60 s)") with { }) with { IsScoreValid = false });
        Assert.Contains("INVALID", text);
        Assert.Contains("failed: deadline: no final status within timeout_seconds (60 s)", text);
        Assert.DoesNotContain("turns:", text);
        var garbled = Text(Of(new AgentReport(1, 0, 0, "{not json")));
        Assert.Contains("turns: unreadable", garbled);
    }

    [Fact]
    public void A_single_answer_rollout_shows_as_before()
    {
        var text = Text(Of(null));
        Assert.DoesNotContain("agent:", text);
        Assert.Contains("completion: The product is 80779853376.", text);
        Assert.Null(RolloutsCommand.Json(Of(null))["agent"]);
    }

    [Fact]
    public void Json_has_the_agent_with_snake_case_keys_turns_and_failure()
    {
        var json = RolloutsCommand.Json(Of(new AgentReport(3, 2, 1, Messages, "tool_server", "calculator exited", 0.5, "half"), extra: 2));
        Assert.Null(json["Agent"]);
        var agent = json["agent"]!.AsObject();
        Assert.Equal(3, agent["model_calls"]!.GetValue<int>());
        Assert.Equal(2, agent["tool_calls"]!.GetValue<int>());
        Assert.Equal(1, agent["tool_errors"]!.GetValue<int>());
        Assert.Equal(2, agent["extra_samples"]!.GetValue<int>());
        Assert.Equal("tool_server", agent["failure_kind"]!.GetValue<string>());
        Assert.Equal("calculator exited", agent["failure"]!.GetValue<string>());
        Assert.Equal(0.5, agent["reported_score"]!.GetValue<double>());
        var turns = agent["turns"]!.AsArray();
        Assert.Equal(5, turns.Count);
        Assert.Equal("multiply", turns[0]!["tool_calls"]![0]!["name"]!.GetValue<string>());
        Assert.Equal("call_1", turns[1]!["tool_call_id"]!.GetValue<string>());
        Assert.Equal("multiply", turns[1]!["name"]!.GetValue<string>());
        Assert.Equal("80779853376", turns[1]!["content"]!.GetValue<string>());
        Assert.Equal(0.9, json["reward"]!.GetValue<double>()); // the rollout's own fields in the jobs API's shape (RftJson: snake_case)
        Assert.Null(json["Reward"]);
    }

    [Fact]
    public void Control_characters_from_tools_agents_and_evaluators_never_reach_the_terminal_but_newlines_and_tabs_do()
    {
        const string esc = "\u001b]8;;http://evil\u0007click\u001b[2J\r\u009b31m";
        var messages = new JsonArray
        {
            new JsonObject { ["role"] = "assistant", ["content"] = "a\tb " + esc, ["tool_calls"] = new JsonArray(new JsonObject { ["id"] = "c1", ["function"] = new JsonObject { ["name"] = "x" + esc, ["arguments"] = "{\"q\":\"" + "\\u001b[1m" + "\"}" } }) },
            new JsonObject { ["role"] = "tool", ["tool_call_id"] = "c1", ["content"] = "line1\nline2" + esc },
        }.ToJsonString();
        var r = Of(new AgentReport(2, 1, 0, messages, "tool_server", "died" + esc, 0.5, "why" + esc)) with { Completion = "done" + esc, Reason = "r" + esc };
        var text = Text(r);

        foreach (var c in text)
            Assert.False(c is (< ' ' and not '\n' and not '\t') or '\u007f' or (>= '\u0080' and <= '\u009f'), $"control character U+{(int)c:X4} printed: {text}");
        Assert.Contains("a\tb ", text);                                       // a tab stays
        Assert.Contains("line1\n", text);                                     // a newline stays (then indented)
        Assert.Contains("\uFFFD]8;;http://evil\uFFFDclick\uFFFD[2J\uFFFD\uFFFD31m", text);
        Assert.Contains("failed: tool_server: died\uFFFD", text);
        Assert.Contains("completion: done\uFFFD", text);
        Assert.Contains("reason: r\uFFFD", text);
    }
}
