using System.Text.Json;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.Engine.Sampling;
using Orleans.Rft.Engine.Training;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs;
using TorchSharp;
using static TorchSharp.torch;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// The job side of multi-turn rollouts, without a cluster: a masked sample crosses to the trainer rank
/// with its mask, and a step's metrics count what agents did and what the context window cut.
/// </summary>
public sealed class TrajectoryTrainingTests
{
    static readonly int[] Prompt = [5, 6, 7];

    static GeneratedCompletion Agent(int calls, int tools, int toolErrors, string? failure = null, int extra = 0) => new(
        Prompt, [10, 11, 20, 21, 30], [-1f, -2f, 0f, 0f, -0.5f], "done", failure is null ? FinishReason.Stop : "agent_error",
        [true, true, false, false, true],
        Enumerable.Range(0, extra).Select(_ => new TrajectorySegment([1, 2], [3, 4], [-1f, -1f], [true, true])).ToArray(),
        new AgentReport(calls, tools, toolErrors, "[]", failure, failure is null ? null : "why"));

    static StepMetrics Build(IReadOnlyList<PendingRollout> rollouts, IReadOnlyList<TrainSample> samples, int maxContext) =>
        StepMetricsBuilder.Build(1, 1, rollouts, rollouts.Select(_ => new EvaluateOutcome(0.5, true, "", new Dictionary<string, double>(), false, false)).ToList(),
            new AdvantageResult([[]], 0, 0), new GradientSummary(0, 1, 1, 1, 1, 0, 0, 0, 0), 0.5, 0.01, 1, 1, 1, 0, 3, null, 8, 0, 0, samples, maxContext);

    [Fact]
    public void A_masked_multi_turn_sample_reaches_the_trainer_with_its_mask()
    {
        // two rollouts of one prompt (shared array, as the rollout worker restores it) and a further sequence;
        // a small page forces several parts, as a large step would
        var rollouts = new[] { Agent(2, 1, 0, extra: 1), Agent(3, 2, 1) };
        var samples = rollouts.SelectMany((c, i) => TrainSamples.Of(c, i == 0 ? 0.5 : -0.5)).ToList();
        var parts = TrainBatchParts.Split(samples, pageBytes: 200);
        Assert.True(parts.Count > 1, $"{parts.Count} part(s)");
        var joined = TrainBatchParts.Join(parts);
        Assert.Equal(samples.Count, joined.Count);
        for (int i = 0; i < samples.Count; i++)
        {
            Assert.Equal(samples[i].PromptIds, joined[i].PromptIds);
            Assert.Equal(samples[i].Mask, joined[i].Mask);
        }

        var policy = joined.Select(TrainSamples.ToPolicy).ToList();
        Assert.Equal([true, true, false, false, true], policy[0].CompletionMask!);
        using var batch = SequenceBatch.Build(policy, CPU);
        // row 0: the prompt (3) then completion token j at target 2 + j; the tool tokens (j = 2, 3) do not train
        var mask = batch.Mask.data<float>().ToArray();
        int width = (int)batch.Mask.shape[1];
        Assert.Equal(new float[] { 0, 0, 1, 1, 0, 0, 1 }, mask[..width]);
        var old = batch.OldLogProbs.data<float>().ToArray();
        Assert.Equal(-0.5f, old[6]);
        Assert.Equal(policy.Sum(p => p.TrainableTokensWithin(int.MaxValue)), (int)batch.Mask.sum().ToDouble());
    }

    [Fact]
    public void Step_metrics_count_agent_failures_by_kind_model_and_tool_calls_and_extra_samples()
    {
        var completions = new[]
        {
            Agent(2, 1, 0, extra: 2), Agent(4, 3, 1), Agent(1, 0, 0, "deadline"), Agent(0, 0, 0, "init_refused"), Agent(3, 2, 2, "deadline"),
        };
        var rollouts = completions.Select((c, i) => new PendingRollout(i / 5, i, 0, c)).ToList();
        var samples = completions.SelectMany(c => TrainSamples.Of(c, 1)).ToList();
        var m = Build(rollouts, samples, int.MaxValue);
        Assert.Equal(5, m.AgentRollouts);
        Assert.Equal(2.0, m.AgentModelCallsMean, 9);  // (2 + 4 + 1 + 0 + 3) / 5
        Assert.Equal(1.2, m.AgentToolCallsMean, 9);   // (1 + 3 + 0 + 0 + 2) / 5
        Assert.Equal(3, m.AgentToolErrors);
        Assert.Equal(2, m.ExtraSamples);
        Assert.Equal(new Dictionary<string, int> { ["deadline"] = 2, ["init_refused"] = 1 }, m.AgentFailures);
        Assert.Equal(3, m.AgentFailed);
        Assert.Equal(5 * 3 + 2 * 2, m.TrainableTokens);
        // completion lengths count the model's own tokens (3 of 5 per sequence; the extra sequences' 2 each), not tool results
        Assert.Equal((7 + 3 + 3 + 3 + 3) / 5.0, m.CompletionLengthMean, 9);
        Assert.Equal(7, m.CompletionLengthMax);

        var line = JobDisplay.Details(m);
        Assert.Contains("failed 3 (deadline 2, init_refused 1)", line);
        Assert.Contains("extra samples 2", line);
        var back = JsonSerializer.Deserialize<StepMetrics>(JsonSerializer.Serialize(m))!;
        Assert.Equal(m.AgentFailures, back.AgentFailures);

        var single = Build([new PendingRollout(0, 0, 0, new GeneratedCompletion(Prompt, [1, 2], [-1f, -1f], "x", FinishReason.Stop))], [], int.MaxValue);
        Assert.Equal(0, single.AgentRollouts);
        Assert.Equal("", JobDisplay.Details(single));
    }

    [Fact]
    public void Step_metrics_say_how_much_max_context_length_cut()
    {
        // prompt 3 + completion 5 = 8 tokens; cut at 6: completion tokens 3 (tool, masked) and 4 (model) go
        var samples = new[] { Agent(2, 1, 0), Agent(2, 1, 0) }.SelectMany(c => TrainSamples.Of(c, 1))
            .Append(new TrainSample([1, 2], [3, 4], [-1f, -1f], 1, null)).ToList();
        var m = Build([], samples, 6);
        Assert.Equal(2, m.ContextTruncatedSamples);
        Assert.Equal(4, m.ContextTruncatedTokens);
        Assert.Equal(2, m.ContextTruncatedTrainableTokens);
        Assert.Equal(2 * 2 + 2, m.TrainableTokens);
        Assert.Contains("context cut 2 seq / 4 tok (2 trainable)", JobDisplay.Details(m));
        Assert.Equal(0, Build([], samples, 8).ContextTruncatedSamples);
    }
}
