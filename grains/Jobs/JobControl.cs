using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Grains.Jobs;

/// <summary>
/// Pause, resume and cancel. A control call only records the request — in memory and in its own
/// small grain state (<see cref="JobControlRequests"/>), never in the job state — and the step loop
/// alone applies it, at a step boundary, through <see cref="Next"/>. So a request made while a step
/// writes the job state is neither lost (a pause during validation stays a pause) nor raced (no ETag
/// conflict between two writers), and a step cannot turn a cancelled job back into a running one.
/// </summary>
public sealed class JobControl(IPersistentState<JobControlRequests> store)
{
    /// <summary>Control calls interleave with each other: one write of the request state at a time.</summary>
    readonly SemaphoreSlim gate = new(1, 1);

    public bool PauseRequested => store.State.Pause;
    public bool CancelRequested => store.State.Cancel;
    /// <summary>Whether the step loop should stop at the next boundary.</summary>
    public bool StopRequested => PauseRequested || CancelRequested;

    public Task RequestPause() => Record(r => r.Pause = true);
    public Task RequestResume() => Record(r => r.Pause = false);
    public Task RequestCancel() => Record(r => r.Cancel = true);

    async Task Record(Action<JobControlRequests> change)
    {
        await gate.WaitAsync();
        try
        {
            change(store.State);
            await StateWrites.WriteAsync(store, stored => { change(stored); return stored; });
        }
        finally { gate.Release(); }
    }

    /// <summary>
    /// The status the step loop moves a job to at a boundary: cancel wins over pause; a paused job
    /// whose pause was withdrawn goes back to running, or to pending if it was never validated.
    /// </summary>
    public static JobStatus Next(JobStatus current, bool pause, bool cancel, bool validated) => current switch
    {
        _ when current.IsFinal() => current,
        _ when cancel => JobStatus.Cancelled,
        _ when pause => JobStatus.Paused,
        JobStatus.Paused => validated ? JobStatus.Running : JobStatus.Pending,
        _ => current,
    };

    public JobStatus Next(JobStatus current, bool validated) => Next(current, PauseRequested, CancelRequested, validated);

    /// <summary>
    /// What a caller is shown: a pause or resume takes effect at the next step boundary, but the
    /// answer already says what the job is heading for (a cancel is shown once it is applied).
    /// </summary>
    public JobStatus Shown(JobStatus current, bool validated) =>
        current.IsFinal() || CancelRequested ? current : Next(current, PauseRequested, false, validated);
}
