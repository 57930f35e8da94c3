using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;

namespace Orleans.Rft.Evaluators.Python;

/// <summary>How a pool's calls ended and how often its workers were replaced, since it started.</summary>
public sealed record PythonWorkerCounters(long Calls, long Started, long Timeouts, long Crashes, long Exceptions);

/// <summary>
/// The owner of one reward file's workers: at most <c>workers</c> processes, each lent to one call at a
/// time and kept warm between calls (starting Python and importing a reward costs tens of milliseconds,
/// scoring often far less). A call past its timeout kills its worker; a worker that died or broke the
/// protocol is dropped; the next call starts a fresh one. Every outcome is counted (<see cref="Counters"/>
/// and the <c>Orleans.Rft</c> meter).
/// </summary>
public sealed class PythonWorkerPool(string file, string function, int memoryMb, int workers, bool groupwise, TimeSpan timeout, Action<string> log) : IDisposable
{
    /// <summary>Starting a worker (interpreter + the reward's imports) may take this long before it counts as failed.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    static readonly Meter Meter = new("Orleans.Rft");
    static readonly Counter<long> WorkerEvents = Meter.CreateCounter<long>("rft.evaluator.python.workers", description: "python evaluator worker events (started, timeout, crash)");
    static readonly Counter<long> CallOutcomes = Meter.CreateCounter<long>("rft.evaluator.python.calls", description: "python evaluator calls by outcome (ok, exception, timeout, crash)");

    readonly SemaphoreSlim slots = new(workers);
    readonly Stack<PythonWorker> idle = new(); // most recently used first: it is warmest
    long calls, started, timeouts, crashes, exceptions;
    bool disposed;

    public PythonWorkerCounters Counters => new(Interlocked.Read(ref calls), Interlocked.Read(ref started), Interlocked.Read(ref timeouts), Interlocked.Read(ref crashes), Interlocked.Read(ref exceptions));

    /// <summary>
    /// Sends <paramref name="request"/> to a worker. Returns the worker's answer (which may carry the
    /// reward's own <c>error</c>); throws <see cref="TimeoutException"/> or <see cref="PythonWorkerException"/>
    /// after replacing the worker.
    /// </summary>
    public async Task<JsonObject> CallAsync(JsonObject request, CancellationToken cancellation)
    {
        await slots.WaitAsync(cancellation);
        PythonWorker? worker = null;
        try
        {
            Interlocked.Increment(ref calls);
            lock (idle) worker = idle.Count > 0 ? idle.Pop() : null;
            if (worker is { HasExited: true }) { worker.Dispose(); worker = null; }
            worker ??= await Start(cancellation);
            var answer = await worker.CallAsync(request, timeout, cancellation);
            if (answer["error"] is not null) Count(ref exceptions, CallOutcomes, "exception"); else CallOutcomes.Add(1, new KeyValuePair<string, object?>("outcome", "ok"));
            Return(worker);
            worker = null;
            return answer;
        }
        catch (TimeoutException)
        {
            Count(ref timeouts, CallOutcomes, "timeout");
            throw;
        }
        catch (PythonWorkerException)
        {
            Count(ref crashes, CallOutcomes, "crash");
            throw;
        }
        finally
        {
            worker?.Dispose(); // a worker that did not answer cleanly (timeout, crash, cancellation) is never reused
            slots.Release();
        }
    }

    async Task<PythonWorker> Start(CancellationToken cancellation)
    {
        var (worker, load) = await PythonWorker.StartAsync(file, function, memoryMb, groupwise, checkOnly: false, log, StartTimeout, cancellation);
        Count(ref started, WorkerEvents, "started");
        if (!load.Ready)
        {
            worker.Dispose();
            throw new PythonWorkerException($"the reward no longer loads: {load.Describe()}");
        }
        return worker;
    }

    void Return(PythonWorker worker)
    {
        lock (idle)
            if (!disposed) { idle.Push(worker); return; }
        worker.Dispose();
    }

    static void Count(ref long field, Counter<long> counter, string outcome)
    {
        Interlocked.Increment(ref field);
        counter.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
    }

    public void Dispose()
    {
        lock (idle)
        {
            disposed = true;
            while (idle.Count > 0) idle.Pop().Dispose();
        }
    }
}
