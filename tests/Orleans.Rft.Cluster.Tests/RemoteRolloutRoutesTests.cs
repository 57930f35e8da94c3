using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rft.Agents;
using Orleans.Rft.Agents.Remote;
using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.Engine.Sampling;
using Orleans.Rft.Engine.Tokenization;
using Orleans.Rft.Silo;
using Orleans.Rft.Silo.Http;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// The silo's routes for remote agents, called directly: <c>/rollouts/{id}/v1</c> takes only that rollout's
/// live token, the status push and the log push end a rollout, and nothing else opens to a rollout token.
/// The rollout's policy here answers a fixed text and records the call, as the rollout worker's does.
/// </summary>
[Collection(HttpCollection.Name)]
public sealed class RemoteRolloutRoutesTests(HttpFixture fixture)
{
    RemoteRolloutRegistry Registry => fixture.Host.Services.GetRequiredService<RemoteRolloutRegistry>();

    (RemoteRolloutSession Session, string Token, FixedPolicy Policy) Open(TimeSpan? life = null)
    {
        var policy = FixedPolicy.Load(fixture.Toy.ModelDir);
        var id = "test-" + Guid.NewGuid().ToString("N");
        var (session, token) = Registry.Open(id, "jobs/route-test", policy, DateTimeOffset.UtcNow + (life ?? TimeSpan.FromMinutes(1)));
        return (session, token, policy);
    }

    static JsonObject Chat => new() { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hello" }) };

    [Fact]
    public async Task A_call_with_the_rollouts_token_is_sampled_from_its_policy_and_recorded()
    {
        var (session, token, policy) = Open();
        try
        {
            using var http = HttpTestClient.Raw(fixture.Host, token);
            var (status, body) = await http.PostAsync($"rollouts/{session.RolloutId}/v1/chat/completions", Chat);
            Assert.Equal(200, status);
            Assert.Equal("chat.completion", body["object"]!.GetValue<string>());
            Assert.Equal("jobs/route-test", body["model"]!.GetValue<string>()); // no model given: the rollout's
            Assert.Equal(FixedPolicy.Answer, body["choices"]![0]!["message"]!["content"]!.GetValue<string>());
            Assert.Single(policy.Calls);
            Assert.Equal(policy.Render([ChatMessage.User("hello")], null), policy.Calls[0].PromptIds);
            Assert.Equal(1, session.Exchanges);
            Assert.False(session.End.IsCompleted);
            var models = JsonNode.Parse(await http.GetStringAsync($"rollouts/{session.RolloutId}/v1/models"))!;
            Assert.Equal("jobs/route-test", models["data"]![0]!["id"]!.GetValue<string>());
        }
        finally { Registry.Close(session.RolloutId); }
    }

    [Fact]
    public async Task A_wrong_token_is_refused_with_401_and_ends_the_rollout_as_bad_token_only_after_repeated_refusals()
    {
        var (session, _, policy) = Open();
        try
        {
            using var http = HttpTestClient.Raw(fixture.Host, "rft-rollout-guessed");
            for (int i = 1; i <= RemoteRolloutRegistry.MaxRefusedCalls; i++)
            {
                Assert.False(session.End.IsCompleted, $"the rollout ended after {i - 1} refused calls; a stranger who knows its id could kill it");
                var (status, body) = await http.PostAsync($"rollouts/{session.RolloutId}/v1/chat/completions", Chat);
                Assert.Equal(401, status);
                Assert.Equal("invalid_api_key", body["error"]!["code"]!.GetValue<string>());
            }
            Assert.Empty(policy.Calls);
            var end = await session.End.WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal(AgentFailureKinds.BadToken, end.FailureKind);
        }
        finally { Registry.Close(session.RolloutId); }
    }

    [Fact]
    public async Task A_refusal_says_the_same_for_an_unknown_rollout_and_a_wrong_token()
    {
        var (session, _, _) = Open();
        try
        {
            using var http = HttpTestClient.Raw(fixture.Host, "rft-rollout-guessed");
            var (_, wrong) = await http.PostAsync($"rollouts/{session.RolloutId}/v1/chat/completions", Chat);
            var (_, unknown) = await http.PostAsync($"rollouts/no-such-{Guid.NewGuid():N}/v1/chat/completions", Chat);
            Assert.Equal(unknown["error"]!["message"]!.GetValue<string>(), wrong["error"]!["message"]!.GetValue<string>());
            Assert.DoesNotContain(session.RolloutId, wrong["error"]!["message"]!.GetValue<string>());
        }
        finally { Registry.Close(session.RolloutId); }
    }

    [Fact]
    public async Task An_expired_or_revoked_token_is_refused_with_401()
    {
        var (expired, expiredToken, _) = Open(TimeSpan.FromMilliseconds(-1));
        var (revoked, revokedToken, _) = Open();
        Registry.Close(revoked.RolloutId);
        try
        {
            using var a = HttpTestClient.Raw(fixture.Host, expiredToken);
            var (status, body) = await a.PostAsync($"rollouts/{expired.RolloutId}/v1/chat/completions", Chat);
            Assert.Equal(401, status);
            Assert.Contains("expired", body["error"]!["message"]!.GetValue<string>());
            using var b = HttpTestClient.Raw(fixture.Host, revokedToken);
            (status, _) = await b.PostAsync($"rollouts/{revoked.RolloutId}/v1/chat/completions", Chat);
            Assert.Equal(401, status);
        }
        finally { Registry.Close(expired.RolloutId); }
    }

    [Fact]
    public async Task A_rollout_token_opens_nothing_but_its_own_rollouts_routes()
    {
        var (session, token, _) = Open();
        var (other, _, _) = Open();
        try
        {
            using var http = HttpTestClient.Raw(fixture.Host, token);
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("v1/models")).StatusCode);
            Assert.Equal(401, (await http.PostAsync("v1/chat/completions", Chat.ToJsonString())).Status);
            Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync($"rollouts/{session.RolloutId}/v1/completions", null)).StatusCode);
            using var anonymous = HttpTestClient.Raw(fixture.Host, null);
            var line = new JsonObject { ["status"] = new JsonObject { ["code"] = 100 }, ["tags"] = new JsonArray($"rollout_id:{other.RolloutId}") };
            Assert.Equal(401, (await anonymous.PostAsync("logs", line)).Status);
            Assert.Equal(401, (await http.PostAsync("logs", line)).Status); // one rollout's token does not end another through logs
            Assert.False(other.End.IsCompleted);
            // ...nor call its model: that is a wrong token for the other rollout, which ends it after repeated refusals
            for (int i = 0; i < RemoteRolloutRegistry.MaxRefusedCalls; i++)
                Assert.Equal(401, (await http.PostAsync($"rollouts/{other.RolloutId}/v1/chat/completions", Chat)).Status);
            Assert.Equal(AgentFailureKinds.BadToken, (await other.End).FailureKind);
            Assert.False(session.End.IsCompleted);
        }
        finally { Registry.Close(session.RolloutId); Registry.Close(other.RolloutId); }
    }

    [Theory]
    [InlineData("logs")]
    [InlineData("v1/logs")]
    public async Task The_first_log_line_with_a_final_status_ends_its_rollout_and_carries_the_score(string path)
    {
        var (session, _, _) = Open();
        try
        {
            using var http = HttpTestClient.Raw(fixture.Host, HttpFixture.LogKey); // an agent log key, as Eval Protocol's tracing handler sends one
            JsonObject Line(int code, double score) => new()
            {
                ["program"] = "agent", ["message"] = "step",
                ["status"] = new JsonObject { ["status_code"] = code, ["status_message"] = "m", ["status_details"] = new JsonArray() },
                ["tags"] = new JsonArray($"rollout_id:{session.RolloutId}", "experiment_id:x"), ["extras"] = new JsonObject { ["score"] = score },
            };
            Assert.Equal(200, (await http.PostAsync(path, Line(RolloutStatus.Running, 0.1))).Status);
            Assert.False(session.End.IsCompleted); // "running" ends nothing
            var (status, body) = await http.PostAsync(path, Line(RolloutStatus.Finished, 0.9));
            Assert.Equal(200, status);
            Assert.Equal(session.RolloutId, body["ended"]![0]!.GetValue<string>());
            await http.PostAsync(path, Line(13, 0.2)); // later lines change nothing
            var end = await session.End;
            Assert.Null(end.FailureKind);
            Assert.Equal(0.9, end.Status!.Reported().Score);
        }
        finally { Registry.Close(session.RolloutId); }
    }

    static JsonObject FinalLine(string rolloutId, string padding = "") => new()
    {
        ["status"] = new JsonObject { ["status_code"] = RolloutStatus.Finished, ["status_message"] = "m", ["status_details"] = new JsonArray() },
        ["tags"] = new JsonArray($"rollout_id:{rolloutId}"), ["extras"] = new JsonObject { ["score"] = 1, ["padding"] = padding },
    };

    [Theory]
    [InlineData("logs")]
    [InlineData("v1/logs")]
    public async Task A_log_push_without_a_key_is_refused_from_its_headers_before_its_body_is_read(string path)
    {
        using var anonymous = HttpTestClient.Raw(fixture.Host, null);
        var (status, body) = await anonymous.PostAsync(path, "{ this is not JSON, and an anonymous caller's body is never parsed");
        Assert.Equal(401, status);
        Assert.Equal("invalid_api_key", body["error"]!["code"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("logs")]
    [InlineData("v1/logs")]
    public async Task A_log_line_over_64_KiB_is_refused_with_413_and_ends_nothing(string path)
    {
        var (session, _, _) = Open();
        try
        {
            using var http = HttpTestClient.Raw(fixture.Host, HttpFixture.LogKey);
            var (status, body) = await http.PostAsync(path, FinalLine(session.RolloutId, new string('x', RolloutLogsApi.MaxBodyBytes)));
            Assert.Equal(413, status);
            Assert.Equal("request_too_large", body["error"]!["code"]!.GetValue<string>());
            Assert.False(session.End.IsCompleted);
            Assert.Equal(200, (await http.PostAsync(path, FinalLine(session.RolloutId))).Status); // a line of ordinary size still ends it
            Assert.True(session.End.IsCompleted);
        }
        finally { Registry.Close(session.RolloutId); }
    }

    [Theory]
    [InlineData("logs")]
    [InlineData("v1/logs")]
    public async Task A_serving_key_cannot_end_a_rollout_through_logs_only_an_agent_log_key_or_its_token_can(string path)
    {
        var (byLogKey, _, _) = Open();
        var (byToken, token, _) = Open();
        try
        {
            using var serving = HttpTestClient.Raw(fixture.Host); // Rft:ApiKeys: may call the model, not set rewards
            var (status, _) = await serving.PostAsync(path, FinalLine(byLogKey.RolloutId));
            Assert.Equal(401, status);
            Assert.False(byLogKey.End.IsCompleted);
            using var logs = HttpTestClient.Raw(fixture.Host, HttpFixture.LogKey);
            Assert.Equal(200, (await logs.PostAsync(path, FinalLine(byLogKey.RolloutId))).Status);
            Assert.Null((await byLogKey.End.WaitAsync(TimeSpan.FromSeconds(5))).FailureKind);
            using var own = HttpTestClient.Raw(fixture.Host, token);
            Assert.Equal(200, (await own.PostAsync(path, FinalLine(byToken.RolloutId))).Status);
            Assert.Null((await byToken.End.WaitAsync(TimeSpan.FromSeconds(5))).FailureKind);
        }
        finally { Registry.Close(byLogKey.RolloutId); Registry.Close(byToken.RolloutId); }
    }

    [Fact]
    public void Agent_log_keys_must_not_be_empty()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new RftSiloOptions { AgentLogKeys = [" "] }.Validate());
        Assert.Contains("Rft:AgentLogKeys", e.Message);
    }

    [Fact]
    public async Task A_pushed_status_over_64_KiB_is_refused_with_413_and_ends_nothing()
    {
        var (session, token, _) = Open();
        try
        {
            using var http = HttpTestClient.Raw(fixture.Host, token);
            var status = new JsonObject
            {
                ["terminated"] = true, ["status"] = new JsonObject { ["code"] = RolloutStatus.Finished, ["message"] = "done", ["details"] = new JsonArray() },
                ["info"] = new JsonObject { ["score"] = 1, ["padding"] = new string('x', RolloutLogsApi.MaxBodyBytes) },
            };
            var (code, body) = await http.PostAsync($"rollouts/{session.RolloutId}/status", status);
            Assert.Equal(413, code);
            Assert.Equal("request_too_large", body["error"]!["code"]!.GetValue<string>());
            Assert.False(session.End.IsCompleted);
        }
        finally { Registry.Close(session.RolloutId); }
    }

    [Fact]
    public async Task A_pushed_garbage_status_is_refused_with_400_and_ends_the_rollout_as_bad_status()
    {
        var (session, token, _) = Open();
        try
        {
            using var http = HttpTestClient.Raw(fixture.Host, token);
            var (status, _) = await http.PostAsync($"rollouts/{session.RolloutId}/status", """{"terminated": "soon"}""");
            Assert.Equal(400, status);
            var end = await session.End.WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal(AgentFailureKinds.BadStatus, end.FailureKind);
            Assert.Contains("terminated", end.Failure);
        }
        finally { Registry.Close(session.RolloutId); }
    }

    [Fact]
    public void A_silo_without_its_http_endpoint_says_remote_agents_need_it()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new RftSiloOptions { HttpPort = 0 }.RemoteAgentEndpoint().EnsureAvailable());
        Assert.Contains("Rft:HttpPort is 0", e.Message);
        var unmapped = Assert.Throws<InvalidOperationException>(() => new RftSiloOptions { HttpPort = 8080 }.RemoteAgentEndpoint().EnsureAvailable());
        Assert.Contains("MapRftHttp", unmapped.Message);
        Assert.Equal($"http://127.0.0.1:{fixture.Host.Options.HttpPort}/rollouts/r1/v1", fixture.Host.Services.GetRequiredService<RemoteAgentEndpoint>().ModelBaseUrl("r1"));
    }
}
