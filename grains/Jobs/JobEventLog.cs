using System.Text.Json;
using Microsoft.Extensions.Logging;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Grains.Jobs;

/// <summary>
/// A job's events: the latest <see cref="JobState.MaxEvents"/> in its state (shown by <c>rft status</c>,
/// written with the state), every one of them in <c>jobs/&lt;id&gt;/events.jsonl</c>. Events are rare
/// (rollbacks, damaged checkpoints, pauses), so the log is rewritten whole.
/// </summary>
public sealed class JobEventLog(IArtifactStore artifacts, string jobId, ILogger logger)
{
    public async Task Record(JobState s, string kind, string message)
    {
        var e = new JobEvent(DateTimeOffset.UtcNow, s.Step, kind, message);
        s.Events.Add(e);
        if (s.Events.Count > JobState.MaxEvents) s.Events.RemoveRange(0, s.Events.Count - JobState.MaxEvents);
        var path = JobPaths.Events(jobId);
        var log = await artifacts.ReadAsync(path) ?? [];
        await artifacts.WriteAsync(path, [.. log, .. JsonSerializer.SerializeToUtf8Bytes(e), (byte)'\n']);
        logger.LogInformation("Job {JobId} {Kind}: {Message}", jobId, kind, message);
    }
}
