namespace Orleans.Rft.Grains.Jobs;

/// <summary>
/// What a (re)start of a job's cluster does to its state. Every start opens a new run generation and
/// rolls back to <paramref name="checkpoint"/> (or to the very start), whatever step the job had
/// reached — even step 0: a step that failed after publishing its adapter leaves version 1 behind
/// while the fresh ranks know nothing of it, so nothing past the checkpoint may survive a restart.
/// </summary>
public static class JobRollback
{
    /// <summary>Resets <paramref name="s"/> to <paramref name="checkpoint"/>; returns the checkpoint prefix the ranks load (null: from scratch).</summary>
    public static string? Apply(JobState s, CheckpointRef? checkpoint)
    {
        // The adapter the lost run had reached is abandoned (a redone step publishes under the new generation).
        if (s.AdapterPath is { } abandoned) s.RetiredAdapters.Add(abandoned);
        // Checkpoints taken after the one resumed from belong to the lost run (or were found damaged).
        foreach (var later in s.Checkpoints.Where(c => checkpoint is null || c.Step > checkpoint.Step).ToList())
        {
            s.Checkpoints.Remove(later);
            s.RetiredAdapters.Add(later.Prefix);
        }
        s.Generation++;
        if (checkpoint is not null)
        {
            (s.Step, s.Epoch, s.Cursor, s.PolicyVersion) = (checkpoint.Step, checkpoint.Epoch, checkpoint.Cursor, checkpoint.PolicyVersion);
            s.AdapterPath = $"{checkpoint.Prefix}/adapter";
        }
        else (s.Step, s.Epoch, s.Cursor, s.PolicyVersion, s.AdapterPath) = (0, 0, 0, 0, null);
        s.LastCheckpoint = checkpoint;
        if (s.BestStep > s.Step) (s.BestAdapterPath, s.BestStep, s.BestEval) = (null, null, null); // measured on a lost step
        s.History.RemoveAll(h => h.Step > s.Step);
        return checkpoint?.Prefix;
    }
}
