using System.Text;
using System.Text.Json.Nodes;
using Orleans.Rft.Agents;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Grains.Services;

/// <summary>An agent rollout as the step sees it: its merged sequences (<see cref="TrajectoryMerge"/>) with their masks, and what happened.</summary>
public static class AgentCompletions
{
    /// <summary>True when the rollout's agent failed: it is not scored and stays out of the baseline. A full context is an ending, not a failure.</summary>
    public static bool Failed(AgentReport? agent) => agent is { FailureKind: string kind } && kind != AgentFailureKinds.Context;

    /// <summary>
    /// The most of a rollout's messages that is recorded (256 KiB of JSON): what <c>rft rollouts</c>
    /// shows and the evaluator reads, not the training data (the calls' ids); an agent with hundreds of
    /// calls would otherwise make one rollout larger than the page a worker answers in.
    /// </summary>
    public const int MaxMessagesBytes = 256 << 10;

    /// <summary>
    /// The first merged sequence carries the rollout (its prompt is the first call's); the rest ride in
    /// <see cref="GeneratedCompletion.Extra"/>. With no call at all the prompt is the row's rendered one
    /// (<paramref name="renderedPrompt"/>) and nothing trains. A rollout that would not fit in one page
    /// of the worker's answer (<see cref="GenerateResultPages"/>) is recorded as failed with its data
    /// dropped, so that it fails alone instead of failing the whole step's worker call.
    /// </summary>
    public static GeneratedCompletion From(AgentTrajectory t, int[] renderedPrompt, long pageBytes = GenerateResultPages.DefaultPageBytes)
    {
        var merged = TrajectoryMerge.Merge(t.Calls);
        var report = new AgentReport(t.Calls.Count, t.ToolCalls, t.ToolErrors, BoundedMessagesJson(t.Messages), t.FailureKind, t.Failure, t.ReportedScore, t.ReportedReason);
        var finish = t.FailureKind switch
        {
            AgentFailureKinds.Context => Engine.Sampling.FinishReason.Length, // cut by the context, as a completion cut by max_tokens is
            not null => "agent_error",
            _ => t.Calls.Count > 0 ? t.Calls[^1].FinishReason : "stop",
        };
        if (merged.Count == 0) return new GeneratedCompletion(renderedPrompt, [], [], t.FinalText, finish, [], null, report);
        var first = merged[0];
        var extra = merged.Skip(1).Select(m => new TrajectorySegment(m.PromptIds, m.CompletionIds, m.LogProbs, m.Mask)).ToArray();
        var c = new GeneratedCompletion(first.PromptIds, first.CompletionIds, first.LogProbs, t.FinalText, finish, first.Mask, extra.Length > 0 ? extra : null, report);
        long bytes = GenerateResultPages.Bytes(c) + GenerateResultPages.Bytes(c.PromptIds);
        if (bytes <= pageBytes) return c;
        var why = $"the rollout is too large to record ({bytes} bytes for {t.Calls.Count} model calls and {extra.Length + 1} sequences, more than a page of {pageBytes}); lower agent.max_turns or inference.max_tokens.";
        var dropped = new AgentReport(t.Calls.Count, t.ToolCalls, t.ToolErrors, "[]", AgentFailureKinds.AgentError, why, null, null);
        return new GeneratedCompletion(renderedPrompt, [], [], "", "agent_error", [], null, dropped);
    }

    /// <summary>
    /// The messages as JSON of at most <see cref="MaxMessagesBytes"/>: when longer, the first message
    /// and as many of the last as fit are kept whole (so the result stays valid JSON and the final
    /// answer is there), and a <c>system</c> message in their place says how many were dropped.
    /// </summary>
    public static string BoundedMessagesJson(JsonArray messages, int maxBytes = MaxMessagesBytes)
    {
        var all = messages.ToJsonString();
        if (Encoding.UTF8.GetByteCount(all) <= maxBytes) return all;
        var items = messages.Select(m => m?.ToJsonString() ?? "null").ToList();
        var sizes = items.Select(i => Encoding.UTF8.GetByteCount(i) + 1).ToList();
        long budget = maxBytes - 2 - 256; // brackets, and room for the note
        var head = new List<int>();
        if (sizes[0] <= budget) { head.Add(0); budget -= sizes[0]; }
        var tail = new List<int>();
        for (int i = items.Count - 1; i > (head.Count > 0 ? 0 : -1) && sizes[i] <= budget; i--) { tail.Add(i); budget -= sizes[i]; }
        tail.Reverse();
        int droppedCount = items.Count - head.Count - tail.Count;
        long droppedBytes = Enumerable.Range(0, items.Count).Except(head).Except(tail).Sum(i => (long)sizes[i]);
        var note = new JsonObject
        {
            ["role"] = "system",
            ["content"] = $"[{droppedCount} messages ({droppedBytes} bytes) dropped here: a rollout's recorded messages are capped at {maxBytes} bytes]",
        }.ToJsonString();
        return "[" + string.Join(",", head.Select(i => items[i]).Append(note).Concat(tail.Select(i => items[i]))) + "]";
    }
}
