using System.Collections.Concurrent;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Silo;

/// <summary>
/// Counts the generate requests this silo's rollout workers are serving and remembers which jobs sent
/// them lately: a draining silo (<see cref="SiloDrain"/>) tells those jobs it is leaving and waits for
/// the count to reach zero, so no request in flight is cut off. An incoming grain call filter, so the
/// worker grain itself knows nothing of it.
/// </summary>
public sealed class RolloutRequestsInFlight : IIncomingGrainCallFilter
{
    /// <summary>How long a job that sent a request stays "a job that uses this silo".</summary>
    public static readonly TimeSpan RecentJobs = TimeSpan.FromMinutes(10);
    /// <summary>Jobs remembered at most (oldest forgotten first): bounded whatever the traffic.</summary>
    public const int MaxJobs = 1000;

    readonly ConcurrentDictionary<string, DateTime> jobs = new();
    int inFlight;
    long served;

    public int InFlight => Volatile.Read(ref inFlight);
    public long Served => Interlocked.Read(ref served);

    /// <summary>Jobs that sent this silo a generate request within <see cref="RecentJobs"/>.</summary>
    public IReadOnlyList<string> Jobs() => jobs.Where(j => DateTime.UtcNow - j.Value < RecentJobs).Select(j => j.Key).ToList();

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod?.DeclaringType != typeof(IRolloutWorkerGrain)) { await context.Invoke(); return; }
        if (context.Request.GetArgumentCount() > 0 && context.Request.GetArgument(0) is GenerateRequest { JobId: { Length: > 0 } job })
        {
            jobs[job] = DateTime.UtcNow;
            if (jobs.Count > MaxJobs) foreach (var old in jobs.OrderBy(j => j.Value).Take(jobs.Count - MaxJobs).ToList()) jobs.TryRemove(old.Key, out _);
        }
        Interlocked.Increment(ref inFlight);
        try { await context.Invoke(); }
        finally
        {
            Interlocked.Decrement(ref inFlight);
            Interlocked.Increment(ref served);
        }
    }
}
