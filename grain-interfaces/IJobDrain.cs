using Orleans.Concurrency;

namespace Orleans.Rft.GrainInterfaces;

/// <summary>What a job did about a silo that is leaving: its trainer ranks there (moved at the next step boundary) and whether the job grain itself runs there (it moves too).</summary>
[GenerateSerializer, Immutable, Alias("rft.DrainAnswer")]
public sealed record DrainAnswer(
    [property: Id(0)] string JobId,
    [property: Id(1)] int TrainerRanks,
    [property: Id(2)] bool HoldsJob);

/// <summary>
/// The job side of a graceful silo leave (SIGTERM): a draining silo tells every job that uses it, and
/// waits until they have moved their ranks and stopped sending it rollouts. Implemented by the job
/// grain (key: job id), apart from <see cref="IJobGrain"/> because only silos call it.
/// </summary>
[Alias("rft.IJobDrain")]
public interface IJobDrain : IGrainWithStringKey
{
    /// <summary>
    /// <paramref name="silo"/> (a parsable silo address) is leaving: no more rollouts go there, and ranks
    /// on it are checkpointed and re-placed at the next step boundary. Returns at once (interleaves with a running step).
    /// </summary>
    [AlwaysInterleave] Task<DrainAnswer> Drain(string silo);
}
