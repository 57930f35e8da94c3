using Orleans.Rft.Grains.Jobs.Spec;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.Engine.Presets;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs;

namespace Orleans.Rft.Client.Tests;

/// <summary>The <c>loss:</c> keys: optional ones stay null so the method's default applies, user values win, bad combinations name the field.</summary>
public sealed class LossSpecParserTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "orleans-rft-loss-spec-tests", Guid.NewGuid().ToString("N")[..8]);

    public LossSpecParserTests()
    {
        Directory.CreateDirectory(dir);
        TinyModelPresets.WriteTokenizer(Path.Combine(dir, "model"));
        File.WriteAllText(Path.Combine(dir, "model", "config.json"), TinyModelPresets.Presets["micro"].ToJson());
        File.WriteAllText(Path.Combine(dir, "train.jsonl"), """{"messages": [{"role": "user", "content": "What is 1 + 2?"}], "ground_truth": "3"}""" + "\n");
    }

    // lines 1–6; `loss:` is line 7 and its first key line 8
    const string Base = "base_model: model\ndataset: train.jsonl\nevaluator:\n  type: numeric\ninference:\n  {max_tokens: 64, temperature: 0.7}\n";

    JobSpec Parse(string loss)
    {
        var path = Path.Combine(dir, "job.yaml");
        File.WriteAllText(path, Base + "loss:\n" + loss);
        return JobSpecParser.Parse(path);
    }

    [Fact]
    public void Omitted_optional_loss_keys_stay_null_and_resolve_per_method()
    {
        var gspo = Parse("  method: gspo\n").Loss;
        Assert.Null(gspo.Epsilon);
        Assert.Null(gspo.RecomputeLogProbs);
        Assert.Null(gspo.DynamicSampling);
        Assert.Equal((3, 0, 1.0), (gspo.MaxResample, gspo.OverlongBuffer, gspo.OverlongPenalty));
        var options = JobOptions.Loss(Parse("  method: gspo\n"));
        Assert.Equal((3e-4, 4e-4), (options.LowerEpsilon, options.UpperEpsilon));
        Assert.False(JobOptions.DynamicSampling(gspo));
        Assert.True(JobOptions.DynamicSampling(Parse("  method: dapo\n").Loss));
        Assert.False(JobOptions.DynamicSampling(Parse("  {method: dapo, max_staleness: 1}\n").Loss));
        // the trainer trains the tempered policy the rollouts were sampled from
        Assert.Equal(0.7, JobOptions.Trainer(Parse("  method: grpo\n"), 10).Temperature);
    }

    [Fact]
    public void Given_loss_keys_override_the_method_defaults()
    {
        var spec = Parse("  {method: gspo, epsilon: 0.001, recompute_logprobs: true, dynamic_sampling: true, max_resample: 5, overlong_buffer: 16, overlong_penalty: 0.5}\n");
        var l = spec.Loss;
        Assert.Equal(0.001, l.Epsilon);
        Assert.True(l.RecomputeLogProbs);
        Assert.True(JobOptions.DynamicSampling(l));
        Assert.Equal((5, 16, 0.5), (l.MaxResample, l.OverlongBuffer, l.OverlongPenalty));
        Assert.Equal((0.001, 0.001), (JobOptions.Loss(spec).LowerEpsilon, JobOptions.Loss(spec).UpperEpsilon));
        Assert.False(JobOptions.DynamicSampling(Parse("  {method: dapo, dynamic_sampling: false}\n").Loss));
        Assert.False(JobOptions.Trainer(Parse("  recompute_logprobs: false\n"), 10).RecomputeLogProbs);
    }

    [Theory]
    [InlineData("  {dynamic_sampling: true, max_staleness: 2}\n", "loss.dynamic_sampling", "max_staleness: 0 or dynamic_sampling: false")]
    [InlineData("  overlong_buffer: 64\n", "loss.overlong_buffer", "inference.max_tokens is 64")]
    [InlineData("  overlong_buffer: -1\n", "loss.overlong_buffer", "must be in")]
    [InlineData("  max_resample: 1000\n", "loss.max_resample", "must be in [0, 100]")]
    [InlineData("  recompute_logprobs: maybe\n", "loss.recompute_logprobs", "true or false")]
    [InlineData("  dynamic_sampling: 1\n", "loss.dynamic_sampling", "true or false")]
    public void Bad_loss_values_name_the_field_and_the_fix(string loss, string field, string message)
    {
        var e = Assert.Throws<JobSpecException>(() => Parse(loss));
        Assert.True(field == e.Field, e.Message);
        Assert.Contains("job.yaml:8:", e.Message);
        Assert.Contains(message, e.Message);
    }

    public void Dispose()
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }
}
