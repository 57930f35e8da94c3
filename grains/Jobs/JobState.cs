using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Grains.Jobs;

/// <summary>Where a checkpoint is and the cursor it was taken at (written after its data: data first, pointer last).</summary>
[GenerateSerializer, Immutable, Alias("rft.CheckpointRef")]
public sealed record CheckpointRef(
    [property: Id(0)] int Step,
    [property: Id(1)] int Epoch,
    [property: Id(2)] int Cursor,
    [property: Id(3)] int PolicyVersion,
    [property: Id(4)] string Prefix);

/// <summary>
/// The job's durable state, small and bounded on purpose (an Azure Table entity holds 1 MiB, a
/// property 64 KiB): rollouts, the full metrics log and every event go to the artifact store; the
/// state keeps the latest <see cref="MaxHistory"/> steps, <see cref="MaxEvents"/> events and
/// <c>checkpoint.keep_last</c> (+ the best) checkpoint pointers. Written by the step loop only.
/// </summary>
[GenerateSerializer, Alias("rft.JobState")]
public sealed class JobState
{
    public const int MaxHistory = 20;
    public const int MaxEvents = 20;

    [Id(0)] public JobSpec? Spec { get; set; }
    [Id(1)] public JobStatus Status { get; set; } = JobStatus.Pending;
    [Id(2)] public int Step { get; set; }
    [Id(3)] public int Epoch { get; set; }
    [Id(4)] public int Cursor { get; set; }
    [Id(5)] public int PolicyVersion { get; set; }
    [Id(6)] public string? AdapterPath { get; set; }
    [Id(7)] public List<StepMetrics> History { get; set; } = new();
    [Id(8)] public string? LastError { get; set; }
    [Id(9)] public CheckpointRef? LastCheckpoint { get; set; }
    [Id(10)] public double? BaselineEval { get; set; }
    [Id(11)] public double? LatestEval { get; set; }
    [Id(12)] public double? BestEval { get; set; }
    [Id(13)] public int? BestStep { get; set; }
    [Id(14)] public string? BestAdapterPath { get; set; }
    [Id(15)] public DateTimeOffset SubmittedAt { get; set; }
    [Id(16)] public DateTimeOffset UpdatedAt { get; set; }
    [Id(17)] public int TotalSteps { get; set; }
    [Id(18)] public List<CheckpointRef> Checkpoints { get; set; } = new();
    /// <summary>
    /// Adapters no longer current and checkpoints pruned or abandoned, deleted after the state that no
    /// longer names them is written, once no queued rollout batch samples with them (unless a kept checkpoint holds them).
    /// </summary>
    [Id(19)] public List<string> RetiredAdapters { get; set; } = new();
    /// <summary>
    /// Which run of the job this is: incremented at every (re)start of its cluster, so adapters and
    /// checkpoints a redone step publishes never reuse a lost run's name (a cached copy is always the right bytes).
    /// </summary>
    [Id(20)] public int Generation { get; set; }
    /// <summary>The latest <see cref="MaxEvents"/> events (all of them in <c>events.jsonl</c>).</summary>
    [Id(21)] public List<JobEvent> Events { get; set; } = new();
    /// <summary>
    /// Keys of the trainer ranks of the current run generation, so that a later activation (after this
    /// one was lost or collected) can release them in <c>EnsureCluster</c> and <c>Finish</c>: nothing
    /// else knows them, and they would otherwise hold device memory until their keep-alive lease ends.
    /// </summary>
    [Id(22)] public List<string> TrainerKeys { get; set; } = new();
    /// <summary>
    /// Silos (parsable addresses) that said they are leaving (SIGTERM, <see cref="SiloDrainPlan"/>): no
    /// rollouts or ranks go there. Kept in the state so that the job's next activation (it moves off a
    /// draining silo too) does not place ranks back on it; forgotten once the silo is out of the membership.
    /// </summary>
    [Id(23)] public List<string> DrainingSilos { get; set; } = new();
    /// <summary>Set when the ranks were checkpointed at the current step to move off a draining silo: the restart that follows loses no step, and says so ("drained", not "rollback").</summary>
    [Id(24)] public bool MovedForDrain { get; set; }
}
