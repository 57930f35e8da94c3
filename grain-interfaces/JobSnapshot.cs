namespace Orleans.Rft.GrainInterfaces;

/// <summary>A job's state as the console shows it.</summary>
[GenerateSerializer, Immutable, Alias("rft.JobSnapshot")]
public sealed record JobSnapshot(
    [property: Id(0)] string JobId,
    [property: Id(1)] string Name,
    [property: Id(2)] JobStatus Status,
    [property: Id(3)] int Step,
    [property: Id(4)] int TotalSteps,
    [property: Id(5)] int Epoch,
    [property: Id(6)] int PolicyVersion,
    [property: Id(7)] string? LastError,
    [property: Id(8)] double? BaselineEvalReward,
    [property: Id(9)] double? LatestEvalReward,
    [property: Id(10)] double? BestEvalReward,
    [property: Id(11)] int? BestStep,
    [property: Id(12)] DateTimeOffset SubmittedAt,
    [property: Id(13)] DateTimeOffset UpdatedAt,
    [property: Id(14)] StepMetrics? Latest,
    [property: Id(15)] int Trainers,
    [property: Id(16)] IReadOnlyList<JobEvent>? Events = null,
    [property: Id(17)] int Generation = 0);

/// <summary>An exported adapter, sent back in chunks of at most <see cref="MessageLimits.MaxChunkBytes"/>.</summary>
[GenerateSerializer, Immutable, Alias("rft.AdapterInfo")]
public sealed record AdapterInfo(
    [property: Id(0)] int Step,
    [property: Id(1)] int Version,
    [property: Id(2)] string ConfigJson,
    [property: Id(3)] long WeightsBytes,
    [property: Id(4)] string ArtifactPath,
    [property: Id(5)] string? BaseModel = null);
