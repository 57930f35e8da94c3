using Orleans.Rft.Engine.Sampling;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>The elastic split's arithmetic: prompts over the workers present, by measured throughput.</summary>
public sealed class ElasticSplitTests
{
    [Theory]
    [InlineData(10, new[] { 1.0, 1.0, 1.0 }, new[] { 4, 3, 3 })]
    [InlineData(8, new[] { 3.0, 1.0 }, new[] { 6, 2 })]
    [InlineData(2, new[] { 1.0, 1.0, 1.0, 1.0 }, new[] { 1, 1, 0, 0 })]
    [InlineData(5, new[] { 0.0, 0.0 }, new[] { 3, 2 })]
    [InlineData(0, new[] { 2.0, 1.0 }, new[] { 0, 0 })]
    [InlineData(4, new[] { 10.0, 10.0, 10.0, 1.0 }, new[] { 1, 1, 1, 1 })] // the slow worker keeps one prompt, so it is measured again
    [InlineData(8, new[] { 10.0, 1.0, 1.0 }, new[] { 6, 1, 1 })]
    public void Split_counts_add_up_and_follow_the_weights_within_one_prompt(int items, double[] weights, int[] expected)
    {
        var counts = WorkShares.Split(items, weights);
        Assert.Equal(expected, counts);
        Assert.Equal(items, counts.Sum());
    }

    [Fact]
    public void Split_is_proportional_to_throughput_within_a_prompt_and_starves_no_worker_for_any_weights()
    {
        var random = new Random(7);
        for (int trial = 0; trial < 200; trial++)
        {
            var weights = Enumerable.Range(0, random.Next(1, 6)).Select(_ => random.NextDouble() * 100 + 0.1).ToArray();
            int items = random.Next(0, 500);
            var counts = WorkShares.Split(items, weights);
            Assert.Equal(items, counts.Sum());
            for (int i = 0; i < weights.Length; i++)
            {
                if (items >= weights.Length) Assert.True(counts[i] >= 1, $"trial {trial}: worker {i} got no prompt of {items}");
                // never a prompt above its proportional share; below it by at most one, plus the prompts given to workers that would have had none
                double exact = items * weights[i] / weights.Sum();
                Assert.True(counts[i] < exact + 1 && counts[i] > exact - 1 - weights.Length, $"trial {trial}: worker {i} got {counts[i]}, its share is {exact:0.00}");
            }
        }
    }

    [Fact]
    public void Split_without_a_worker_is_refused_by_name()
    {
        var e = Assert.Throws<ArgumentException>(() => WorkShares.Split(3, []));
        Assert.Contains("no rollout worker", e.Message);
    }

    [Fact]
    public void A_worker_without_a_measurement_starts_at_the_mean_of_the_measured_ones()
    {
        var weights = WorkShares.Weights(["a", "b", "c", "new"], new Dictionary<string, double> { ["a"] = 100, ["b"] = 100, ["c"] = 700 });
        Assert.Equal(300, weights[3]);
        Assert.Equal([100, 100, 700, 300], weights); // a, b and c are outside the even band (a factor of 2) around 300: their own throughput
    }

    [Fact]
    public void Throughputs_within_the_even_band_give_an_even_split_so_noise_does_not_move_prompts()
    {
        var weights = WorkShares.Weights(["a", "b", "c"], new Dictionary<string, double> { ["a"] = 60, ["b"] = 140, ["c"] = 100 });
        Assert.Equal([100, 100, 100], weights);
        Assert.Equal([3, 3, 2], WorkShares.Split(8, weights));
    }

    [Fact]
    public void No_measurement_at_all_means_equal_weights()
    {
        Assert.Equal([1.0, 1.0], WorkShares.Weights(["a", "b"], new Dictionary<string, double>()));
    }

    [Fact]
    public void Throughput_moves_towards_new_measurements_and_ignores_empty_or_instant_calls()
    {
        var t = new WorkerThroughput();
        t.Record("a", 50, 10.0); // the first call loads the model: not counted
        Assert.Empty(t.Snapshot());
        t.Record("a", 1000, 1.0);
        Assert.Equal(1000, t.Snapshot()["a"]);
        t.Record("a", 3000, 1.0);
        Assert.Equal(2000, t.Snapshot()["a"]); // halfway (Smoothing 0.5)
        t.Record("a", 0, 1.0);
        t.Record("a", 500, 0.001);
        t.Record("a", 500, double.NaN);
        Assert.Equal(2000, t.Snapshot()["a"]);
        t.Forget("a");
        Assert.Empty(t.Snapshot());
        t.Record("a", 1000, 1.0); // back after leaving: a first call again
        Assert.Empty(t.Snapshot());
    }

    [Fact]
    public void A_trainer_rank_key_names_its_silo_and_job()
    {
        var keys = new[] { "job-1|ab12cd34-r0|127.0.0.1:11111@1|cpu", "job-1|ab12cd34-r1|127.0.0.1:22222@2|cpu" };
        Assert.Equal([keys[1]], SiloDrainPlan.RanksOn(keys, "127.0.0.1:22222@2"));
        Assert.Empty(SiloDrainPlan.RanksOn(keys, "127.0.0.1:33333@3"));
        Assert.Equal("job-1", SiloDrainPlan.JobOf(keys[0]));
    }

    [Fact]
    public void Step_metrics_count_rollouts_by_the_silo_that_generated_them()
    {
        PendingRollout R(string? silo) => new(0, 0, 0, new GeneratedCompletion([1], [2], [-1f], "x", FinishReason.Stop), silo);
        var by = StepMetricsBuilder.BySilo([R("s1"), R("s2"), R("s1"), R(null)]);
        Assert.Equal(new Dictionary<string, int> { ["s1"] = 2, ["s2"] = 1 }, by);
        Assert.Null(StepMetricsBuilder.BySilo([R(null)]));
    }
}
