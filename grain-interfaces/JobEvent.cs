namespace Orleans.Rft.GrainInterfaces;

/// <summary>
/// Something the job did on its own that its owner should know about: a rollback to a checkpoint, a
/// damaged checkpoint passed over, a pause or cancel applied. The state keeps the latest few; the
/// artifact store keeps all of them (<c>jobs/&lt;id&gt;/events.jsonl</c>).
/// </summary>
[GenerateSerializer, Immutable, Alias("rft.JobEvent")]
public sealed record JobEvent(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] int Step,
    [property: Id(2)] string Kind,
    [property: Id(3)] string Message);
