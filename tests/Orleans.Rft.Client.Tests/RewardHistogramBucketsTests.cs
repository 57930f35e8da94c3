using System.Diagnostics.Metrics;
using Orleans.Rft.Grains.Telemetry;

namespace Orleans.Rft.Client.Tests;

/// <summary>
/// The reward histograms (<c>rft_reward_mean</c>, <c>rft_eval_reward_mean</c> on <c>/metrics</c>) carry bucket
/// boundaries over [0, 1]. Seen on a local cluster's scrape: with OpenTelemetry's defaults every step of a
/// job fell into the bucket le="5", so no quantile or heat map over them could show a reward.
/// </summary>
public sealed class RewardHistogramBucketsTests
{
    [Fact]
    public void Reward_histograms_advise_buckets_that_split_the_unit_interval()
    {
        var advised = new Dictionary<string, IReadOnlyList<double>?>();
        using (var listener = new MeterListener())
        {
            listener.InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == RftTelemetry.Name && instrument is Histogram<double> h && h.Name.Contains("reward"))
                    advised[h.Name] = h.Advice?.HistogramBucketBoundaries;
            };
            _ = RftTelemetry.Meter; // the instruments are created with the type
            listener.Start();
        }
        Assert.Equal(["rft.eval.reward.mean", "rft.reward.mean"], advised.Keys.Order());
        foreach (var (name, boundaries) in advised)
        {
            Assert.NotNull(boundaries);
            Assert.True(boundaries!.Count >= 10, $"{name}: {boundaries.Count} boundaries");
            Assert.Equal(0, boundaries[0]);
            Assert.Equal(1, boundaries[^1]);
            Assert.Equal(boundaries.Order(), boundaries); // increasing, as OpenTelemetry requires
            Assert.Equal(boundaries.Count, boundaries.Distinct().Count());
        }
    }
}
