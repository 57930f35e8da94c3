namespace Orleans.Rft.Grains.Jobs;

/// <summary>
/// The owner's standing requests for a job (pause, cancel), kept in their own grain state so that a
/// control call never writes the job state the step loop is writing (no ETag race, nothing lost).
/// </summary>
[GenerateSerializer, Alias("rft.JobControlRequests")]
public sealed class JobControlRequests
{
    [Id(0)] public bool Pause { get; set; }
    [Id(1)] public bool Cancel { get; set; }
}
