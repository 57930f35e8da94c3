using System.Text.Json.Nodes;

namespace Orleans.Rft.Evaluators.Tests.Python;

/// <summary>Every way a reward can fail makes that one sample invalid with the reason; the next call still scores.</summary>
public sealed class PythonEvaluatorFailureTests
{
    const string Failing = """
        import math, os, time
        def evaluate(completion):
            if completion == "raise": raise ValueError("bad completion")
            if completion == "sleep": time.sleep(30)
            if completion == "exit": os._exit(1)
            if completion == "memory": return len(bytearray(2 * 1024 ** 3))
            if completion == "nan": return math.nan
            if completion == "big": return 1.5
            if completion == "string": return "0.5"
            if completion == "none": return None
            return 1.0
        """;

    [Theory]
    [InlineData("raise", "ValueError: bad completion")]
    [InlineData("sleep", "timeout_seconds")]
    [InlineData("exit", "exited with code 1")]
    [InlineData("memory", "MemoryError")]
    [InlineData("nan", "score is nan")]
    [InlineData("big", "outside [0, 1]")]
    [InlineData("string", "returned str '0.5'")]
    [InlineData("none", "returned NoneType")]
    public async Task A_failing_call_is_an_invalid_sample_with_its_reason_and_the_next_call_scores(string completion, string reason)
    {
        using var e = Py.Create(Failing, "\"timeout_seconds\": 1, \"memory_mb\": 256, \"workers\": 1");
        var r = await e.Score(completion);
        Assert.False(r.IsScoreValid);
        Assert.Contains(reason, r.Reason);
        Assert.StartsWith("reward.py: ", r.Reason);
        var next = await e.Score("fine");
        Assert.True(next.IsScoreValid, next.Reason);
        Assert.Equal(1.0, next.Score);
    }

    [Fact]
    public async Task A_timeout_and_a_crash_each_replace_the_worker_and_are_counted()
    {
        using var e = Py.Create(Failing, "\"timeout_seconds\": 1, \"workers\": 1");
        await e.Score("fine");
        await e.Score("sleep");
        await e.Score("exit");
        await e.Score("raise");
        await e.Score("fine");
        var c = e.Counters;
        Assert.Equal((5L, 3L, 1L, 1L, 1L), (c.Calls, c.Started, c.Timeouts, c.Crashes, c.Exceptions));
    }

    [Fact]
    public async Task A_groupwise_reward_returning_the_wrong_count_makes_the_group_invalid()
    {
        using var e = Py.Create("def evaluate(completions):\n    return [1.0]\n", "\"groupwise\": true");
        var results = await e.EvaluateGroupAsync([Py.Input("a"), Py.Input("b")], CancellationToken.None);
        Assert.All(results, r => Assert.Contains("list of 2 results", r.Reason));
        Assert.All(results, r => Assert.False(r.IsScoreValid));
    }

    [Fact]
    public async Task The_job_goes_on_a_batch_with_bad_samples_scores_the_good_ones_through_the_runner()
    {
        using var e = Py.Create(Failing, "\"timeout_seconds\": 1, \"workers\": 2");
        var completions = new[] { "fine", "raise", "exit", "fine", "nan", "sleep", "fine" };
        var results = await Task.WhenAll(completions.Select(c => EvaluatorRunner.RunAsync(e, Py.Input(c), TimeSpan.FromSeconds(10))));
        Assert.Equal(completions.Select(c => c == "fine"), results.Select(r => r.IsScoreValid));
    }
}
