namespace Orleans.Rft.GrainInterfaces;

/// <summary>Pending → Validating → Running ⇄ Paused → Completed | Failed | Cancelled.</summary>
[GenerateSerializer, Alias("rft.JobStatus")]
public enum JobStatus
{
    Pending,
    Validating,
    Running,
    Paused,
    Completed,
    Failed,
    Cancelled,
}

public static class JobStatusExtensions
{
    public static bool IsFinal(this JobStatus s) => s is JobStatus.Completed or JobStatus.Failed or JobStatus.Cancelled;
}
