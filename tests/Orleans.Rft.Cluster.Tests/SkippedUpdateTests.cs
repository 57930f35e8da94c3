using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs;
using Orleans.Rft.Grains.Placement;

namespace Orleans.Rft.Cluster.Tests;

[Collection(ClusterCollection.Name)]
public sealed class SkippedUpdateTests(ClusterFixture fixture)
{
    static readonly TrainSample[] Good = Enumerable.Range(0, 4)
        .Select(i => new TrainSample([1, 2, 3 + i], [40 + i, 41, 42], [-5.5f, -5.5f, -5.5f], i % 2 == 0 ? 1.0 : -1.0)).ToArray();

    /// <summary>Two freshly initialised ranks, one per silo, of a job of their own.</summary>
    async Task<(JobStepRunner Runner, ITrainerGrain[] Ranks)> Ranks(string job, JobSpec spec)
    {
        var devices = fixture.Cluster.Silos.Select(s => DeviceKeys.For(s.SiloAddress.ToParsableString(), "cpu")).ToList();
        var keys = Enumerable.Range(0, 2).Select(r => $"{job}|g-r{r}|{devices[r % devices.Count]}").ToArray();
        var ranks = keys.Select(k => fixture.Cluster.Client.GetGrain<ITrainerGrain>(k)).ToArray();
        await Task.WhenAll(ranks.Select((t, r) => t.Initialize(new TrainerSetup(job, spec, 2, r, keys, null, 10))));
        var cluster = new StepCluster([], ranks, keys);
        return (new JobStepRunner(spec, [], [], cluster, fixture.Cluster.Client), ranks);
    }

    [Fact]
    public async Task A_nan_gradient_skips_the_update_on_every_rank_and_the_next_step_equals_a_run_that_never_saw_it()
    {
        var spec = fixture.Spec("nan", trainers: 2);
        var (runner, ranks) = await Ranks("nan-a", spec);
        var initial = await ranks[0].GetFlatParameters();

        var bad = Good.Select((s, i) => i == 1 ? s with { Advantage = double.NaN } : s).ToArray();
        var (_, norm, _) = await runner.Train(0, bad, 0.05);
        Assert.False(double.IsFinite(norm));
        foreach (var rank in ranks) Assert.Equal(initial, await rank.GetFlatParameters());   // no NaN written, no partial update

        await runner.Train(1, Good, 0.05);
        var (fresh, freshRanks) = await Ranks("nan-b", spec);
        await fresh.Train(0, Good, 0.05);
        // Same weights after the good step as a run without the skipped one: had any rank stepped its
        // AdamW (bias-correction counter, moments) on the skipped step, they would differ.
        var expected = await freshRanks[0].GetFlatParameters();
        Assert.NotEqual(initial, expected);
        foreach (var rank in ranks)
        {
            var actual = await rank.GetFlatParameters();
            Assert.All(actual, v => Assert.True(float.IsFinite(v)));
            Assert.True(expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max() <= 1e-6f, "the skipped step changed what the next one did");
        }

        var metrics = StepMetricsBuilder.Build(1, 1, [], [], new Engine.Training.AdvantageResult([[]], 0, 0),
            new GradientSummary(double.NaN, 0, 0, 1, 1, 0, 0, 0, 0), norm, 0.05, 0, 0, 0, 0, 0, null, 8);
        Assert.Equal(1, metrics.SkippedUpdates);
        // the history line keeps the NaN norm as written (named literals), and reads back
        var line = System.Text.Json.JsonSerializer.Serialize(metrics);
        Assert.True(double.IsNaN(System.Text.Json.JsonSerializer.Deserialize<StepMetrics>(line)!.GradNorm), line);
    }
}
