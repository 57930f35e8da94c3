using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rft.Agents;
using Orleans.Rft.Agents.Remote;
using Orleans.Rft.Engine.Chat;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// When each remote rollout ends, timed: one <see cref="RemoteAgent"/> of the silo (its registry and routes)
/// against the real Python agent server. What the agent says or does wrong ends the rollout at once; what it
/// never does ends it at its deadline; at most <c>max_concurrent_rollouts</c> run at once, and waiting for one counts.
/// </summary>
[Collection(HttpCollection.Name)]
public sealed class RemoteAgentDeadlineTests(HttpFixture fixture)
{
    RemoteAgent Agent(string url, double timeout, int concurrency = 8)
    {
        var spec = (RemoteAgentSpec)AgentSpec.Parse(new JsonObject
        {
            ["type"] = "remote", ["url"] = url, ["timeout_seconds"] = timeout, ["max_concurrent_rollouts"] = concurrency, ["poll_interval_seconds"] = 0.1,
        }.ToJsonString());
        var kind = fixture.Host.Services.GetServices<IAgentKind>().Single(k => k.Type == "remote");
        return (RemoteAgent)kind.Create(spec);
    }

    AgentRollout Rollout(string mode)
    {
        var messages = new List<ChatMessage> { ChatMessage.User($"question mode:{mode}") };
        var id = $"deadline-{mode}-{Guid.NewGuid():N}";
        var row = new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = messages[0].Content }) };
        return new AgentRollout(id, row, messages, null, FixedPolicy.Load(fixture.Toy.ModelDir), new AgentRolloutIds("inv", "job-d", "step-0", "0", id));
    }

    [Theory]
    [InlineData("init_400", "init_refused")]
    [InlineData("wrong_token", "bad_token")]
    [InlineData("garbage", "bad_status")]
    [InlineData("error_status", "bad_status")]
    [InlineData("huge_status", "bad_status")] // a reply past RemoteAgent.MaxReplyBytes is not read whole
    public async Task What_the_agent_does_wrong_ends_its_rollout_at_once_not_at_the_deadline(string mode, string kind)
    {
        using var server = await AgentServerProcess.StartAsync();
        var watch = Stopwatch.StartNew();
        var t = await Agent(server.Url, timeout: 60).RunAsync(Rollout(mode), CancellationToken.None);
        Assert.Equal(kind, t.FailureKind);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"{mode} took {watch.Elapsed.TotalSeconds:F1} s of a 60 s deadline");
    }

    [Theory]
    [InlineData("never", "deadline")]
    [InlineData("init_500", "server_error")]
    public async Task What_the_agent_never_does_ends_its_rollout_at_the_deadline(string mode, string kind)
    {
        using var server = await AgentServerProcess.StartAsync();
        var watch = Stopwatch.StartNew();
        var rollout = Rollout(mode);
        var t = await Agent(server.Url, timeout: 2).RunAsync(rollout, CancellationToken.None);
        Assert.Equal(kind, t.FailureKind);
        Assert.InRange(watch.Elapsed.TotalSeconds, 1.9, 6);
        Assert.Null(fixture.Host.Services.GetRequiredService<RemoteRolloutRegistry>().Find(rollout.RolloutId)); // its token is revoked
    }

    [Fact]
    public async Task An_agent_server_that_cannot_be_reached_is_retried_until_the_deadline_and_recorded_as_a_server_error()
    {
        var url = $"http://127.0.0.1:{Orleans.Rft.Client.Jobs.ClusterConnection.FreePort()}"; // nothing listens there
        var watch = Stopwatch.StartNew();
        var t = await Agent(url, timeout: 2).RunAsync(Rollout("normal"), CancellationToken.None);
        Assert.Equal(AgentFailureKinds.ServerError, t.FailureKind);
        Assert.Contains("POST /init failed", t.Failure);
        Assert.InRange(watch.Elapsed.TotalSeconds, 1.9, 6);
    }

    [Fact]
    public async Task No_more_than_max_concurrent_rollouts_of_one_agent_run_at_once_and_waiting_for_a_slot_counts_against_the_deadline()
    {
        using var server = await AgentServerProcess.StartAsync();
        var agent = Agent(server.Url, timeout: 1.5, concurrency: 2);
        var watch = Stopwatch.StartNew();
        var first = Enumerable.Range(0, 2).Select(_ => agent.RunAsync(Rollout("never"), CancellationToken.None)).ToList();
        await Task.Delay(200);
        var queued = Enumerable.Range(0, 2).Select(_ => agent.RunAsync(Rollout("never"), CancellationToken.None)).ToList();
        var results = await Task.WhenAll(first.Concat(queued));
        Assert.All(results, t => Assert.Equal(AgentFailureKinds.Deadline, t.FailureKind));
        // the queued two ended at their own deadline (0.2 + 1.5 s), not a whole timeout after they got a slot (1.5 + 1.5 s):
        // queued early, so the two outcomes lie 1.3 s apart and a loaded machine's delay does not read as the wrong one
        Assert.InRange(watch.Elapsed.TotalSeconds, 1.6, 2.6);
        var inits = server.Events().Where(e => e["kind"]!.GetValue<string>() == "init").Select(e => e["t"]!.GetValue<double>()).Order().ToList();
        Assert.Equal(4, inits.Count);
        Assert.True(inits[2] - inits[0] > 1.3, $"a queued rollout started {inits[2] - inits[0]:F2} s after the first: it did not wait for a slot"); // never three at once
    }
}
