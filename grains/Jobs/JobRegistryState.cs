namespace Orleans.Rft.Grains.Jobs;

/// <summary>
/// The job ids <c>rft jobs</c> lists: every job not yet ended, and the latest
/// <see cref="MaxFinished"/> ended ones (older ended jobs drop off the list; their own state, and
/// <c>rft status &lt;id&gt;</c>, remain). Bounded so the registry's grain state stays well under an
/// Azure Table entity's 1 MiB: 1,000 ids of ≤ 64 characters are ≤ 130 KB.
/// </summary>
[GenerateSerializer, Alias("rft.JobRegistryState")]
public sealed class JobRegistryState
{
    public const int MaxFinished = 1000;

    /// <summary>Submitted, not yet ended, in submission order.</summary>
    [Id(0)] public List<string> Active { get; set; } = new();
    /// <summary>Ended, oldest first.</summary>
    [Id(1)] public List<string> Finished { get; set; } = new();

    public bool Register(string jobId)
    {
        if (Active.Contains(jobId) || Finished.Contains(jobId)) return false;
        Active.Add(jobId);
        return true;
    }

    public bool MarkFinished(string jobId)
    {
        if (Finished.Contains(jobId) && !Active.Contains(jobId)) return false;
        Active.Remove(jobId);
        Finished.Remove(jobId);
        Finished.Add(jobId);
        if (Finished.Count > MaxFinished) Finished.RemoveRange(0, Finished.Count - MaxFinished);
        return true;
    }

    public List<string> All() => [.. Active, .. Finished];
}
