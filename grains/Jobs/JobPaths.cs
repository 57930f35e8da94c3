namespace Orleans.Rft.Grains.Jobs;

/// <summary>
/// Where a job's artifacts live in the artifact store. Adapters and checkpoints carry the run
/// generation (<see cref="JobState.Generation"/>): a published artifact is never rewritten, so a
/// store's local cache of it can never hold another run's bytes.
/// </summary>
public static class JobPaths
{
    public static string Root(string jobId) => $"jobs/{jobId}";
    public static string Adapter(string jobId, int generation, int version) => $"jobs/{jobId}/adapters/g{generation:D4}-v{version:D6}";
    public static string Rollouts(string jobId, int step) => $"jobs/{jobId}/rollouts/step-{step:D6}.jsonl";
    public static string Checkpoint(string jobId, int generation, int step) => $"jobs/{jobId}/checkpoints/g{generation:D4}-step-{step:D6}";
    public static string Events(string jobId) => $"jobs/{jobId}/events.jsonl";
    public const int MetricsStepsPerSegment = 100;

    /// <summary>Step metrics as JSONL, 100 steps a file: <c>metrics/steps-000101.jsonl</c> holds steps 101–200.</summary>
    public static string Metrics(string jobId, int step) =>
        $"jobs/{jobId}/metrics/steps-{(step - 1) / MetricsStepsPerSegment * MetricsStepsPerSegment + 1:D6}.jsonl";
}
