namespace Orleans.Rft.GrainInterfaces;

[GenerateSerializer, Immutable, Alias("rft.EvaluateItem")]
public sealed record EvaluateItem(
    [property: Id(0)] string Completion,
    [property: Id(1)] string? GroundTruthJson,
    [property: Id(2)] string RowJson);

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
