namespace Orleans.Rft.Grains.Jobs;

/// <summary>
/// Every rollout of a step failed in its agent (a tool server that cannot start, an agent server that is
/// down or refuses every rollout): nothing could train, and carrying on would train on nothing step after
/// step. The step fails and is retried like any transient fault (an agent server being restarted comes
/// back); five in a row fail the job with this message, which says what the agents reported.
/// </summary>
public sealed class AgentRolloutsFailedException(string message) : Exception(message)
{
    public static AgentRolloutsFailedException Of(int step, IReadOnlyList<PendingRollout> rollouts)
    {
        var kinds = rollouts.GroupBy(r => r.Completion.Agent!.FailureKind!).OrderByDescending(g => g.Count())
            .Select(g => $"{g.Count()} {g.Key}");
        var first = rollouts[0].Completion.Agent!;
        return new AgentRolloutsFailedException($"every rollout of step {step} failed in its agent ({string.Join(", ", kinds)}); the first: {first.FailureKind}: {first.Failure}");
    }
}
