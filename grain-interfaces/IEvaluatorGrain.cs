namespace Orleans.Rft.GrainInterfaces;

/// <summary>
/// One rollout to score: the final answer, the row, and for agent rollouts the messages the agent
/// added after the prompt (<see cref="TrajectoryJson"/>, OpenAI format, final answer included) and the
/// score the agent reported itself (<c>evaluator: {type: agent_reported}</c>).
/// </summary>
[GenerateSerializer, Immutable, Alias("rft.EvaluateItem")]
public sealed record EvaluateItem(
    [property: Id(0)] string Completion,
    [property: Id(1)] string? GroundTruthJson,
    [property: Id(2)] string RowJson,
    [property: Id(3)] string? TrajectoryJson = null,
    [property: Id(4)] double? ReportedScore = null,
    [property: Id(5)] string? ReportedReason = null);

[GenerateSerializer, Immutable, Alias("rft.EvaluateOutcome")]
public sealed record EvaluateOutcome(
    [property: Id(0)] double Score,
    [property: Id(1)] bool IsScoreValid,
    [property: Id(2)] string Reason,
    [property: Id(3)] IReadOnlyDictionary<string, double> Metrics,
    [property: Id(4)] bool TimedOut,
    [property: Id(5)] bool Errored);

/// <summary>
/// Runs a job's evaluator on rollouts. Stateless: activations run on the calling silo, and a crash,
/// timeout, NaN or out-of-range score is returned as an invalid outcome, never thrown.
/// </summary>
public interface IEvaluatorGrain : IGrainWithIntegerKey
{
    [ResponseTimeout("00:05:00")]
    Task<EvaluateOutcome[]> Evaluate(string evaluatorJson, string baseDirectory, EvaluateItem[] items, double timeoutSeconds);
}
