using System.Collections.Concurrent;

namespace Orleans.Rft.Grains.Jobs;

/// <summary>
/// Tokens per second each rollout worker delivered in recent steps, as an exponential moving average
/// (one job's view, in the job's memory: a restarted job measures again, starting even). A worker's
/// figure is its generated tokens over the wall time from its first request's start to its last
/// answer in one rollout call, so queueing inside the worker counts against it, as it should.
/// </summary>
public sealed class WorkerThroughput
{
    /// <summary>Weight of the newest measurement: about the last three calls dominate, so a silo that slows down loses work within a few steps.</summary>
    public const double Smoothing = 0.5;
    /// <summary>Calls shorter than this say more about latency than throughput, and are not counted.</summary>
    public const double MinSeconds = 0.05;

    readonly ConcurrentDictionary<string, double> tokensPerSecond = new();
    readonly ConcurrentDictionary<string, int> calls = new();

    /// <summary>
    /// Adds one call's measurement. A worker's first call is not counted: it loads the model (and the
    /// runtime compiles), so it says nothing about the worker's pace and would skew the next split.
    /// </summary>
    public void Record(string worker, long tokens, double seconds)
    {
        if (tokens <= 0 || !(seconds >= MinSeconds)) return;
        if (calls.AddOrUpdate(worker, 1, (_, c) => c + 1) == 1) return;
        double sample = tokens / seconds;
        tokensPerSecond.AddOrUpdate(worker, sample, (_, old) => old + Smoothing * (sample - old));
    }

    /// <summary>A worker that left is forgotten: if it comes back it starts at the mean again.</summary>
    public void Forget(string worker)
    {
        tokensPerSecond.TryRemove(worker, out _);
        calls.TryRemove(worker, out _);
    }

    public IReadOnlyDictionary<string, double> Snapshot() => new Dictionary<string, double>(tokensPerSecond);
}
