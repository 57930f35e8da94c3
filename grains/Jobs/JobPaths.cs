namespace Orleans.Rft.Grains.Jobs;

/// <summary>Where a job's artifacts live in the artifact store.</summary>
public static class JobPaths
{
    public static string Root(string jobId) => $"jobs/{jobId}";
    public static string Adapter(string jobId, int version) => $"jobs/{jobId}/adapters/v{version:D6}";
    public static string Rollouts(string jobId, int step) => $"jobs/{jobId}/rollouts/step-{step:D6}.jsonl";
    public static string Checkpoint(string jobId, int step) => $"jobs/{jobId}/checkpoints/step-{step:D6}";
    public static string Metrics(string jobId) => $"jobs/{jobId}/metrics.jsonl";
}
