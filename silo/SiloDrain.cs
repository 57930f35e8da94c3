using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs;
using Orleans.Rft.Grains.Services;
using Orleans.Runtime;

namespace Orleans.Rft.Silo;

/// <summary>
/// A graceful leave (SIGTERM, <c>StopAsync</c>): before Orleans starts shutting the silo down (its
/// lifecycle's Active stage stops first, while the silo still serves calls), every job that uses this
/// silo — trainer ranks here, the job grain here, or generate requests in the last minutes — is told
/// it drains. The jobs stop sending it rollouts and, at their next step boundary, checkpoint the ranks
/// here and start them on other silos from that checkpoint (no step lost); a job grain here moves.
/// The silo waits until no rank, no job grain and no generate request is left on it, at most
/// <see cref="RftSiloOptions.DrainSeconds"/>, and logs what it drained. The host's shutdown timeout is raised above it.
/// </summary>
public sealed class SiloDrain(ILocalSiloDetails local, IGrainFactory grains, TrainerRankRegistry ranks, LocalJobs jobsHere,
    RolloutRequestsInFlight requests, RftSiloOptions options, ILogger<SiloDrain> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>The longest a drain waits (<see cref="RftSiloOptions.DrainSeconds"/>): a step of a large job plus its checkpoint.</summary>
    TimeSpan Timeout => TimeSpan.FromSeconds(options.DrainSeconds);
    static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(15);
    /// <summary>Jobs told in parallel at most (bounded fan-out).</summary>
    const int MaxJobsInFlight = 16;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SiloDrain), ServiceLifecycleStage.Active, _ => Task.CompletedTask, DrainAsync);

    /// <summary>The drain itself (the lifecycle's stop of the Active stage); returns within <see cref="RftSiloOptions.DrainSeconds"/> whatever the jobs do.</summary>
    public async Task DrainAsync(CancellationToken cancellation)
    {
        if (options.DrainSeconds == 0) { logger.LogInformation("Silo stops without a drain (Rft:DrainSeconds is 0)"); return; }
        var silo = local.SiloAddress.ToParsableString();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var rankKeys = ranks.Keys.ToList();
        var jobs = rankKeys.Select(SiloDrainPlan.JobOf).Concat(jobsHere.Ids).Concat(requests.Jobs()).Where(j => j.Length > 0).Distinct().ToList();
        var servedBefore = requests.Served;
        logger.LogInformation("Silo {Silo} draining: {Ranks} trainer rank(s), {JobsHere} job grain(s) and {InFlight} generate request(s) here; telling {Jobs} job(s): {JobIds}",
            silo, rankKeys.Count, jobsHere.Ids.Count, requests.InFlight, jobs.Count, string.Join(", ", jobs));
        using var gate = new SemaphoreSlim(MaxJobsInFlight);
        // One limit for the whole drain, telling the jobs included: a job grain that does not answer (its silo
        // dead, a call queue stuck) costs at most the call timeout, and never keeps this silo past DrainSeconds.
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        limit.CancelAfter(Timeout);
        try
        {
            var answers = await Task.WhenAll(jobs.Select(async job =>
            {
                await gate.WaitAsync(limit.Token);
                try { return await grains.GetGrain<IJobDrain>(job).Drain(silo).WaitAsync(CallTimeout, limit.Token); }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning("Silo {Silo} could not tell job {JobId} it drains: {Error}", silo, job, e.Message);
                    return null;
                }
                finally { gate.Release(); }
            }));
            // What the jobs that answered will move; a job that could not be told recovers from its checkpoint as after a crash.
            var told = answers.OfType<DrainAnswer>().ToList();
            var moving = told.Where(a => a.HoldsJob).Select(a => a.JobId).ToHashSet();
            var answered = told.Select(a => a.JobId).ToHashSet();
            while (ranks.Keys.Any(k => answered.Contains(SiloDrainPlan.JobOf(k))) || jobsHere.Ids.Any(moving.Contains) || requests.InFlight > 0)
                await Task.Delay(TimeSpan.FromMilliseconds(200), limit.Token);
            logger.LogInformation("Silo {Silo} drained in {Seconds:0.0} s: {Ranks} trainer rank(s) moved ({RankKeys}), job grain(s) moved: {Moved}; {Served} generate request(s) finished during the drain",
                silo, watch.Elapsed.TotalSeconds, rankKeys.Count, string.Join(", ", rankKeys), string.Join(", ", answers.OfType<DrainAnswer>().Where(a => a.HoldsJob).Select(a => a.JobId)),
                requests.Served - servedBefore);
        }
        catch (OperationCanceledException)
        {
            logger.LogWarning("Silo {Silo} stops before its drain finished ({Seconds:0.0} s): still here {Ranks} trainer rank(s) ({RankKeys}), job grain(s) {Jobs}, {InFlight} generate request(s); their jobs recover from their last checkpoint",
                silo, watch.Elapsed.TotalSeconds, ranks.Keys.Count, string.Join(", ", ranks.Keys), string.Join(", ", jobsHere.Ids), requests.InFlight);
        }
    }
}

public static class SiloDrainExtensions
{
    /// <summary>Graceful leave: the drain and what it counts (the host's shutdown timeout lets it finish: RftSiloOptions.EffectiveShutdownSeconds).</summary>
    public static ISiloBuilder AddRftDrain(this ISiloBuilder silo, RftSiloOptions options)
    {
        silo.Services.AddSingleton<LocalJobs>();
        silo.Services.AddSingleton<RolloutRequestsInFlight>();
        silo.Services.AddSingleton<IIncomingGrainCallFilter>(sp => sp.GetRequiredService<RolloutRequestsInFlight>()); // the one instance the drain reads
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SiloDrain>();
        return silo;
    }
}
