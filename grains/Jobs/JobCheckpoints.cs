using System.Text.Json;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Grains.Jobs;

/// <summary>
/// A job's checkpoints and the clean-up of what it no longer needs, in the order that keeps every
/// crash resumable: data (manifest last), pointer (the caller's state write), then deletion of what
/// the written state no longer names. Plain class: the job grain owns the state and writes it.
/// </summary>
public sealed class JobCheckpoints(IArtifactStore artifacts, string jobId, JobEventLog events)
{
    /// <summary>
    /// Writes a checkpoint's data — adapter, optimizer shards, job.json, then its manifest, last — and
    /// points the in-memory state at it; the caller's state write that follows is the pointer.
    /// Checkpoints no longer kept (all but the last <c>keep_last</c> and the best) are retired.
    /// </summary>
    public async Task Write(JobState s, IReadOnlyList<ITrainerGrain> trainers, bool best)
    {
        var spec = s.Spec!;
        var prefix = JobPaths.Checkpoint(jobId, s.Generation, s.Step);
        var adapter = await artifacts.MaterializeAsync(s.AdapterPath!);
        await artifacts.UploadDirectoryAsync(adapter, $"{prefix}/adapter");
        await Task.WhenAll(trainers.Select(t => t.SaveOptimizer(prefix)));
        await artifacts.WriteAsync($"{prefix}/job.json", JsonSerializer.SerializeToUtf8Bytes(new { s.Step, s.Epoch, s.Cursor, s.PolicyVersion, s.Generation, Spec = spec }));
        await CheckpointManifest.WriteAsync(artifacts, prefix, s.Step);
        await FaultPoints.ReachedAsync(FaultPoints.CheckpointDataWritten);
        var reference = new CheckpointRef(s.Step, s.Epoch, s.Cursor, s.PolicyVersion, prefix);
        s.Checkpoints.Add(reference);
        s.LastCheckpoint = reference;
        if (best && spec.Checkpoint.KeepBest) s.BestAdapterPath = $"{prefix}/adapter";
        foreach (var old in CheckpointRetention.Pruned(s.Checkpoints, spec.Checkpoint.KeepLast, spec.Checkpoint.KeepBest ? s.BestAdapterPath : null))
        {
            s.Checkpoints.Remove(old);
            s.RetiredAdapters.Add(old.Prefix);
        }
    }

    /// <summary>
    /// The newest whole checkpoint: its manifest matches its files, or (written before manifests, see
    /// <see cref="LegacyCheckpoint"/>) its files are all there. Damaged ones leave the list (their data retired) with an event.
    /// </summary>
    public async Task<CheckpointRef?> NewestIntact(JobState s)
    {
        foreach (var c in s.Checkpoints.OrderByDescending(c => c.Step).ToList())
        {
            var problem = LegacyCheckpoint.Is(c.Prefix)
                ? await LegacyCheckpoint.VerifyAsync(artifacts, c.Prefix, c.Step, s.Spec!.Training.Trainers)
                : await CheckpointManifest.VerifyAsync(artifacts, c.Prefix);
            if (problem is null) return c;
            s.Checkpoints.Remove(c);
            s.RetiredAdapters.Add(c.Prefix);
            var previous = s.Checkpoints.Where(p => p.Step < c.Step).MaxBy(p => p.Step);
            await events.Record(s, "checkpoint-damaged",
                $"checkpoint of step {c.Step} is damaged: {problem}; falling back to {(previous is null ? "the start" : $"the checkpoint of step {previous.Step}")}");
        }
        return null;
    }

    /// <summary>
    /// What earlier runs wrote that the state does not name — an adapter published, or a checkpoint's
    /// data written, just before a crash (the pointer never followed) — is retired with the rest.
    /// </summary>
    public async Task RetireOrphans(JobState s)
    {
        async Task<IEnumerable<string>> Folders(string kind) =>
            (await artifacts.ListAsync($"{JobPaths.Root(jobId)}/{kind}")).Select(p => string.Join('/', p.Split('/').Take(4))).Distinct();
        s.RetiredAdapters.AddRange((await Folders("adapters")).Where(f => f != s.AdapterPath && !s.RetiredAdapters.Contains(f)));
        s.RetiredAdapters.AddRange((await Folders("checkpoints")).Where(f => s.Checkpoints.All(c => c.Prefix != f) && !s.RetiredAdapters.Contains(f)));
    }

    /// <summary>
    /// Ends a step: writes the state (<paramref name="writeState"/>, the pointer), and only then deletes
    /// the retired artifacts it no longer names. The order lives here, in the one way to delete, so no
    /// caller can delete data the stored state still points at.
    /// </summary>
    public async Task CommitAsync(JobState s, Func<Task> writeState, Func<string, bool> inUse)
    {
        await writeState();
        await DeleteRetired(s, inUse);
    }

    /// <summary>
    /// Deletes retired artifacts (the state that no longer names them is written: see <see cref="CommitAsync"/>).
    /// Names are unique per run generation, so the current adapter is never an older entry; one that
    /// <paramref name="inUse"/> (a queued rollout batch samples with it) waits for a later step.
    /// </summary>
    async Task DeleteRetired(JobState s, Func<string, bool> inUse)
    {
        foreach (var retired in s.RetiredAdapters.Where(a => !inUse(a)).Distinct().ToList())
        {
            if (retired != s.AdapterPath && !IsKept(s, retired)) await artifacts.DeleteAsync(retired);
            s.RetiredAdapters.RemoveAll(a => a == retired);
        }
    }

    static bool IsKept(JobState s, string path) => path == s.BestAdapterPath || s.Checkpoints.Any(c => path == c.Prefix || path.StartsWith(c.Prefix + "/"));
}
