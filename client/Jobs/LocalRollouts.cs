using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs;

namespace Orleans.Rft.Client.Jobs;

/// <summary>
/// A job's rollout logs read straight from a local artifact folder (<c>rft run</c>'s <c>.rft/artifacts</c>):
/// <c>jobs/{id}/rollouts/step-NNNNNN.jsonl</c>, the files the job grain writes, so a finished embedded run
/// can still be inspected without a cluster.
/// </summary>
public static class LocalRollouts
{
    public static (List<Rollout>? Rollouts, string? Error) Read(string artifacts, string jobId, int? step)
    {
        if (jobId.Length == 0 || jobId.IndexOfAny(['/', '\\']) >= 0 || jobId.Contains(".."))
            return (null, $"'{jobId}' is not a job id.");
        var folder = Path.Combine(artifacts, "jobs", jobId, "rollouts");
        if (!Directory.Exists(folder))
        {
            var jobs = Path.Combine(artifacts, "jobs");
            var known = Directory.Exists(jobs) ? Directory.GetDirectories(jobs).Select(Path.GetFileName).Order().TakeLast(5).ToList() : [];
            return (null, $"{folder} does not exist: no rollouts of job '{jobId}' under {artifacts}"
                + (known.Count > 0 ? $" (jobs there: {string.Join(", ", known)})." : "; give --artifacts the folder rft run wrote (its --artifacts, default .rft/artifacts)."));
        }
        var files = Directory.GetFiles(folder, "step-*.jsonl").Order().ToList();
        if (files.Count == 0) return ([], null);
        var file = step is int s ? Path.Combine(folder, Path.GetFileName(JobPaths.Rollouts(jobId, s))) : files[^1];
        if (!File.Exists(file)) return ([], null);
        try { return (JobStepRunner.ReadRolloutLog(File.ReadAllBytes(file)), null); }
        catch (System.Text.Json.JsonException e) { return (null, $"{file} is not a rollout log: {e.Message}"); }
    }
}
