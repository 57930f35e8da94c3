using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// A judge without <c>base_url</c> calls the silo's own OpenAI-compatible endpoint (over loopback, with the
/// silo's internal key where the endpoint requires keys), and <c>model</c> names a model that endpoint serves.
/// </summary>
[Collection(HttpCollection.Name)]
public sealed class JudgeOwnEndpointTests(HttpFixture fx)
{
    /// <summary>
    /// The toy base model answers with blank lines, the served adapter with letters: neither is a grade, so
    /// the sample is invalid with exactly the text the endpoint wrote for the same prompt when asked directly
    /// (greedy, so the same each time); a failed call would give its own reason instead.
    /// </summary>
    [Theory]
    [InlineData("toy")]
    [InlineData("toy-lora")]
    public async Task A_judge_without_base_url_scores_through_the_silos_own_endpoint_with_a_model_it_serves(string model)
    {
        using var http = HttpTestClient.Raw(fx.Host);
        var (status, body) = await http.PostAsync("v1/chat/completions", new JsonObject
        {
            ["model"] = model, ["temperature"] = 0, ["max_tokens"] = 12,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Grade this answer: Paris" }),
        });
        Assert.Equal(200, status);
        var written = body["choices"]![0]!["message"]!["content"]!.GetValue<string>().Replace('\n', ' ').Trim();

        var grains = fx.Host.Services.GetRequiredService<IGrainFactory>();
        var judge = $$"""{"type":"judge","model":"{{model}}","prompt":"Grade this answer: {completion}","max_tokens":12,"temperature":0}""";
        var outcome = Assert.Single(await grains.GetGrain<IEvaluatorGrain>(0).Evaluate(judge, fx.Toy.Root, [new EvaluateItem("Paris", "\"Paris\"", "{}")], 30));
        Assert.False(outcome.IsScoreValid);
        Assert.Equal($"the judge's answer has no number: {written}", outcome.Reason);
        if (model == "toy-lora") Assert.NotEqual("", written); // at least one of the two shows real text coming back
    }

    [Fact]
    public async Task A_job_whose_judge_is_jobs_job_id_has_its_own_policy_judge_its_rollouts()
    {
        var grains = fx.Host.Services.GetRequiredService<IGrainFactory>();
        var judge = """{"type":"judge","model":"jobs/{job_id}","prompt":"Grade this answer: {completion}","max_tokens":4,"temperature":0}""";
        var snapshot = await ClusterFixture.RunToEnd(grains, "judge-self", fx.Toy.Spec("judge-self", trainers: 1, maxSteps: 2, evaluator: judge));
        Assert.Equal(JobStatus.Completed, snapshot.Status);
        var job = grains.GetGrain<IJobGrain>("judge-self");
        // Before its first trained step the endpoint does not serve jobs/{id} yet, and says so: those samples
        // are invalid with that reason and the job goes on.
        var first = await job.GetRollouts(0, 0, 100);
        Assert.NotEmpty(first.Rollouts);
        Assert.All(first.Rollouts, r => Assert.Contains("'jobs/judge-self' does not exist: job 'judge-self' has not trained a step yet", r.Reason));
        // From then on each judge call reached the job's own policy on the endpoint and came back with its text.
        var second = await job.GetRollouts(1, 0, 100);
        Assert.NotEmpty(second.Rollouts);
        Assert.All(second.Rollouts, r => Assert.StartsWith("the judge's answer has no number:", r.Reason));
    }
}

/// <summary>On a silo that serves no HTTP, a judge without base_url is refused at submission, saying what to set.</summary>
[Collection(ClusterCollection.Name)]
public sealed class JudgeWithoutEndpointTests(ClusterFixture fixture)
{
    [Fact]
    public async Task On_a_silo_without_HTTP_a_job_whose_judge_has_no_base_url_fails_at_submission_naming_base_url_and_Rft_HttpPort()
    {
        var spec = fixture.Spec("judge-no-http", trainers: 1, maxSteps: 1, evaluator: """{"type":"judge","model":"toy"}""");
        var snapshot = await fixture.RunToEnd("judge-no-http", spec);
        Assert.Equal(JobStatus.Failed, snapshot.Status);
        Assert.Contains("evaluator.base_url: is omitted", snapshot.LastError);
        Assert.Contains("Rft:HttpPort", snapshot.LastError);
        Assert.Equal(0, snapshot.Step);
    }
}
