namespace Orleans.Rft.Agents;

/// <summary>
/// Runs one rollout to its end (a final answer, max turns, a full context, the deadline) and returns
/// what happened. Never throws for the agent's own failures: those come back as
/// <see cref="AgentTrajectory.Failed"/>, so one bad rollout never loses the step.
/// </summary>
public interface IAgent
{
    Task<AgentTrajectory> RunAsync(AgentRollout rollout, CancellationToken cancellation);
}
