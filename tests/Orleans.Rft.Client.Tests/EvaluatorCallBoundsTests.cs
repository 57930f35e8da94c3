using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json.Nodes;
using Orleans.Rft.Engine.Chat;
using Orleans.Rft.Engine.Data;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs;

namespace Orleans.Rft.Client.Tests;

/// <summary>
/// The job's evaluator calls are bounded by bytes and by time: no call carries more than one grain
/// message, and no call can outlast its response timeout even when every item takes its full per-item
/// timeout (a call that timed out as a whole lost every good score in it). Items keep their order.
/// </summary>
public sealed class EvaluatorCallBoundsTests
{
    [Fact]
    public void A_call_of_slow_items_still_ends_inside_the_response_timeout()
    {
        var timeout = typeof(IEvaluatorGrain).GetMethod(nameof(IEvaluatorGrain.Evaluate))!.GetCustomAttribute<ResponseTimeoutAttribute>()!.Timeout!.Value;
        // The grain scores a call's items in turn, each for at most EvaluatorTimeoutSeconds; 30 s is left for transport.
        Assert.True(JobStepRunner.EvaluatorChunk * JobStepRunner.EvaluatorTimeoutSeconds + 30 <= timeout.TotalSeconds,
            $"{JobStepRunner.EvaluatorChunk} items × {JobStepRunner.EvaluatorTimeoutSeconds} s + 30 s > {timeout.TotalSeconds} s");
    }

    [Fact]
    public void Calls_to_the_evaluator_grain_do_not_queue_behind_each_other()
    {
        // A queued call's wait counts against its response timeout, which the sizing above does not include.
        Assert.NotNull(typeof(Orleans.Rft.Grains.EvaluatorGrain).GetCustomAttribute<Orleans.Concurrency.ReentrantAttribute>());
    }

    [Fact]
    public async Task Long_completions_are_sent_in_calls_of_at_most_one_message_and_come_back_in_order()
    {
        var grain = new RecordingEvaluator();
        var runner = Runner(grain, rowText: new string('r', 300_000));
        // 24 completions of 900,000 characters: 28 MB in the 32-item calls of before, ~1.2 MB each now.
        var rollouts = Enumerable.Range(0, 24).Select(i => Rollout(0, i, $"{i}:" + new string('c', 900_000))).ToList();
        var outcomes = await runner.Evaluate(rollouts);

        Assert.NotEmpty(grain.Calls);
        Assert.All(grain.Calls, call =>
        {
            Assert.True(call.Bytes <= MessageLimits.MaxChunkBytes, $"a call carried {call.Bytes:N0} bytes");
            Assert.True(call.Items <= JobStepRunner.EvaluatorChunk, $"a call carried {call.Items} items");
        });
        Assert.Equal(24, grain.Calls.Sum(c => c.Items));
        Assert.Equal(Enumerable.Range(0, 24).Select(i => $"{i}"), outcomes.Select(o => o.Reason));
    }

    [Fact]
    public async Task An_item_too_big_for_any_call_is_scored_invalid_with_the_reason_and_the_rest_are_scored()
    {
        var grain = new RecordingEvaluator();
        var runner = Runner(grain, rowText: "row");
        var rollouts = new[] { Rollout(0, 0, "0:ok"), Rollout(0, 1, "1:" + new string('c', 5 << 20)), Rollout(0, 2, "2:ok") };
        var outcomes = await runner.Evaluate(rollouts);

        Assert.Equal(["0", "2"], new[] { outcomes[0].Reason, outcomes[2].Reason });
        Assert.False(outcomes[1].IsScoreValid);
        Assert.Contains("more than one evaluator call carries", outcomes[1].Reason);
        Assert.Equal(2, grain.Calls.Sum(c => c.Items));
    }

    [Fact]
    public void Calls_are_cut_by_count_and_by_bytes_in_order()
    {
        var (calls, oversize) = JobStepRunner.EvaluatorCalls([4, 4, 4, 11, 4, 4, 4, 4], maxItems: 3, maxBytes: 10);
        Assert.Equal([3], oversize);
        Assert.Equal([[0, 1], [2, 4], [5, 6], [7]], calls);
    }

    static PendingRollout Rollout(int row, int sample, string text) => new(row, sample, 1, new GeneratedCompletion([], [], [], text, "stop"));

    static JobStepRunner Runner(IEvaluatorGrain grain, string rowText)
    {
        var raw = new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = rowText }) };
        var row = new DatasetRow(1, [new ChatMessage("user", rowText)], null, null, raw);
        var spec = new JobSpec("j", "model", "data", null, """{"type":"contains"}""", new TrainingSpec(), new InferenceSpec(), new LossSpec(), new CheckpointSpec(), 0, 1, "/tmp");
        var factory = DispatchProxy.Create<IGrainFactory, OneGrainFactory>();
        ((OneGrainFactory)(object)factory).Grain = grain;
        return new JobStepRunner(spec, [row], [raw.ToJsonString()], null!, factory);
    }

    /// <summary>Answers every GetGrain with the one evaluator grain.</summary>
    public class OneGrainFactory : DispatchProxy
    {
        public object? Grain;
        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod?.Name == nameof(IGrainFactory.GetGrain) ? Grain : throw new NotSupportedException(targetMethod?.Name);
    }

    /// <summary>Records each call's size; scores each item with its completion's prefix as the reason.</summary>
    sealed class RecordingEvaluator : IEvaluatorGrain
    {
        public readonly ConcurrentQueue<(int Items, long Bytes)> Queue = new();
        public List<(int Items, long Bytes)> Calls => Queue.ToList();

        public Task<EvaluateOutcome[]> Evaluate(string evaluatorJson, string baseDirectory, EvaluateItem[] items, double timeoutSeconds)
        {
            long bytes = System.Text.Encoding.UTF8.GetByteCount(evaluatorJson) + System.Text.Encoding.UTF8.GetByteCount(baseDirectory)
                + items.Sum(i => (long)System.Text.Encoding.UTF8.GetByteCount(i.Completion) + System.Text.Encoding.UTF8.GetByteCount(i.RowJson) + System.Text.Encoding.UTF8.GetByteCount(i.GroundTruthJson ?? ""));
            Queue.Enqueue((items.Length, bytes));
            return Task.FromResult(items.Select(i => new EvaluateOutcome(1, true, i.Completion[..i.Completion.IndexOf(':')], new Dictionary<string, double>(), false, false)).ToArray());
        }
    }
}
