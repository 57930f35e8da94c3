using Orleans.Rft.Agents;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Grains.Services;

/// <summary>An agent rollout as the step sees it: its merged sequences (<see cref="TrajectoryMerge"/>) with their masks, and what happened.</summary>
public static class AgentCompletions
{
    /// <summary>
    /// The first merged sequence carries the rollout (its prompt is the first call's); the rest ride in
    /// <see cref="GeneratedCompletion.Extra"/>. With no call at all the prompt is the row's rendered one
    /// (<paramref name="renderedPrompt"/>) and nothing trains.
    /// </summary>
    public static GeneratedCompletion From(AgentTrajectory t, int[] renderedPrompt)
    {
        var merged = TrajectoryMerge.Merge(t.Calls);
        var report = new AgentReport(t.Calls.Count, t.ToolCalls, t.ToolErrors, t.Messages.ToJsonString(), t.FailureKind, t.Failure, t.ReportedScore, t.ReportedReason);
        var finish = t.FailureKind switch
        {
            AgentFailureKinds.Context => Engine.Sampling.FinishReason.Length, // cut by the context, as a completion cut by max_tokens is
            not null => "agent_error",
            _ => t.Calls.Count > 0 ? t.Calls[^1].FinishReason : "stop",
        };
        if (merged.Count == 0) return new GeneratedCompletion(renderedPrompt, [], [], t.FinalText, finish, [], null, report);
        var first = merged[0];
        var extra = merged.Skip(1).Select(m => new TrajectorySegment(m.PromptIds, m.CompletionIds, m.LogProbs, m.Mask)).ToArray();
        return new GeneratedCompletion(first.PromptIds, first.CompletionIds, first.LogProbs, t.FinalText, finish, first.Mask, extra.Length > 0 ? extra : null, report);
    }
}
