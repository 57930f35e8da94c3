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
/// never does ends it at its deadline; at most <c>max_concurrent_rollouts</c> run at once.
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
    public async Task No_more_than_max_concurrent_rollouts_of_one_agent_run_at_once()
    {
        using var server = await AgentServerProcess.StartAsync();
        var agent = Agent(server.Url, timeout: 1, concurrency: 2);
        var watch = Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => agent.RunAsync(Rollout("never"), CancellationToken.None)));
        Assert.All(results, t => Assert.Equal(AgentFailureKinds.Deadline, t.FailureKind));
        Assert.InRange(watch.Elapsed.TotalSeconds, 1.9, 5); // two waves of two, each to its 1 s deadline
    }
}
