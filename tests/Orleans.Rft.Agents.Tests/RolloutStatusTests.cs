using System.Text.Json.Nodes;
using Orleans.Rft.Agents;
using Orleans.Rft.Agents.Remote;

namespace Orleans.Rft.Agents.Tests;

/// <summary>Eval Protocol's status body and AIP-193 codes as the remote agent reads them.</summary>
public sealed class RolloutStatusTests
{
    static RolloutStatus Body(string json, bool terminatedRequired = true) => RolloutStatus.ParseBody(JsonNode.Parse(json), terminatedRequired);

    [Fact]
    public void A_finished_status_ends_the_rollout_normally_with_the_agents_score_and_reason()
    {
        var s = Body("""{"terminated": true, "info": {"score": 0.5, "reason": "2 of 4 checks"}, "status": {"code": 100, "message": "Rollout finished", "details": []}}""");
        var end = RolloutEnd.Of(s, "test");
        Assert.Null(end.FailureKind);
        Assert.Equal((0.5, "2 of 4 checks"), s.Reported());
    }

    [Fact]
    public void The_score_of_a_status_without_info_comes_from_its_extra_info_detail()
    {
        var s = Body("""{"terminated": true, "status": {"code": 100, "message": "", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "EXTRA_INFO", "domain": "evalprotocol.io", "metadata": {"score": 1}}]}}""");
        Assert.Equal(1.0, s.Reported().Score);
    }

    [Theory]
    [InlineData(2, "UNKNOWN (2)")]
    [InlineData(13, "INTERNAL (13)")]
    [InlineData(16, "UNAUTHENTICATED (16)")]
    public void A_grpc_error_code_fails_the_rollout_as_bad_status_naming_the_code(int code, string named)
    {
        var end = RolloutEnd.Of(Body($$$"""{"terminated": true, "status": {"code": {{{code}}}, "message": "boom"}}"""), "GET /status");
        Assert.Equal(AgentFailureKinds.BadStatus, end.FailureKind);
        Assert.Contains(named + ": boom", end.Failure);
    }

    [Fact]
    public void A_score_invalid_status_ends_normally_without_a_score()
    {
        var s = Body("""{"terminated": true, "info": {"score": 0.9}, "status": {"code": 102, "message": "judge unavailable"}}""");
        Assert.Null(RolloutEnd.Of(s, "test").FailureKind);
        var (score, reason) = s.Reported();
        Assert.Null(score);
        Assert.Contains("judge unavailable", reason);
    }

    [Fact]
    public void Running_is_not_final_but_any_other_pushed_code_is()
    {
        Assert.False(Body("""{"status": {"code": 101}}""", terminatedRequired: false).IsFinal);
        Assert.True(Body("""{"status": {"code": 0}}""", terminatedRequired: false).IsFinal);
        Assert.True(Body("""{"terminated": true}""").IsFinal);
    }

    [Fact]
    public void The_tracing_log_handlers_status_spelling_reads_like_the_protocols()
    {
        var (code, message, _) = RolloutStatus.ParseStatus(JsonNode.Parse("""{"status_code": 100, "status_message": "done", "status_details": []}"""), "status");
        Assert.Equal((100, "done"), (code, message));
    }

    [Theory]
    [InlineData("""[1, 2]""", "not a JSON object")]
    [InlineData("""{"status": {"code": 100}}""", "'terminated'")]
    [InlineData("""{"terminated": "yes"}""", "'terminated'")]
    [InlineData("""{"terminated": true, "status": {"code": 42}}""", "42")]
    [InlineData("""{"terminated": true, "status": {"code": "OK"}}""", "'status.code'")]
    [InlineData("""{"terminated": true, "info": [1]}""", "'info'")]
    public void A_body_that_is_not_the_protocols_is_refused_naming_what_is_wrong(string json, string named)
    {
        var e = Assert.Throws<FormatException>(() => Body(json));
        Assert.Contains(named, e.Message);
    }
}
