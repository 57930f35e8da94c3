using System.Collections.Concurrent;
using Orleans.Rft.Engine.Devices;
using Orleans.Rft.Engine.Sampling;

namespace Orleans.Rft.Grains.Services;

/// <summary>
/// One dedicated thread per device: every TorchSharp call for that device runs here, because
/// TorchSharp's dispose scopes and no-grad mode are thread-local and must never span an await.
/// Grains hand work in with <see cref="RunAsync{T}"/> and await the result off-thread. The thread
/// interleaves the queued work items with one decode step of each scheduler that has rows
/// (<see cref="Attach"/>): it runs what is queued, then steps every busy scheduler once, and blocks
/// only when both are idle — so a training step or a model load delays decoding by one item, never
/// by a whole batch, and a submission waits at most one decode step to join.
/// </summary>
public sealed class DeviceWorker : IDisposable
{
    readonly BlockingCollection<Action> queue = new();
    readonly List<ContinuousBatcher> schedulers = new(); // touched only on the device thread
    readonly Thread thread;
    static readonly TimeSpan ItemSlice = TimeSpan.FromMilliseconds(50); // queued work run back to back before schedulers step again

    public DeviceWorker(string name, ComputeDevice device)
    {
        Name = name;
        Device = device;
        thread = new Thread(Loop) { IsBackground = true, Name = $"rft-device-{name}" };
        thread.Start();
    }

    public string Name { get; }
    public ComputeDevice Device { get; }

    /// <summary>Seconds of device work done so far, work items and decode steps (for the orchestration-overhead figure).</summary>
    public double BusySeconds { get; private set; }

    /// <summary>True on this worker's own thread.</summary>
    public bool IsCurrentThread => Environment.CurrentManagedThreadId == thread.ManagedThreadId;

    public Task<T> RunAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        queue.Add(() =>
        {
            try { done.SetResult(work()); }
            catch (Exception e) { done.SetException(e); }
        });
        return done.Task;
    }

    public Task RunAsync(Action work) => RunAsync(() => { work(); return true; });

    /// <summary>
    /// Runs <paramref name="work"/> on the device thread and waits for it; once the thread has
    /// stopped (after <see cref="Dispose"/>) nothing else can touch the device's tensors, so it runs
    /// on the caller's thread. For releasing device memory from shutdown code, which is not on any
    /// device thread: a tensor freed while the device thread uses it is a native crash, not an exception.
    /// </summary>
    public void Invoke(Action work)
    {
        if (IsCurrentThread) { work(); return; }
        Task done;
        try { done = RunAsync(work); }
        catch (InvalidOperationException) // adding completed: the thread is stopping
        {
            thread.Join();
            work();
            return;
        }
        done.GetAwaiter().GetResult();
    }

    /// <summary>Steps <paramref name="scheduler"/> on this thread whenever it has work; call on the device thread.</summary>
    public void Attach(ContinuousBatcher scheduler)
    {
        if (!IsCurrentThread) throw new InvalidOperationException("attach schedulers on the device thread.");
        if (!schedulers.Contains(scheduler)) schedulers.Add(scheduler);
    }

    /// <summary>Stops stepping <paramref name="scheduler"/>; call on the device thread.</summary>
    public void Detach(ContinuousBatcher scheduler)
    {
        if (!IsCurrentThread && thread.IsAlive) throw new InvalidOperationException("detach schedulers on the device thread.");
        schedulers.Remove(scheduler);
    }

    /// <summary>Wakes an idle thread so that it looks at its schedulers again (after a submission from another thread).</summary>
    public void Wake()
    {
        if (!queue.IsAddingCompleted) try { queue.Add(() => { }); } catch (InvalidOperationException) { } // completed meanwhile: nothing to wake
    }

    void Loop()
    {
        while (true)
        {
            bool busy = schedulers.Any(s => s.HasWork);
            Action? work;
            if (busy) { if (!queue.TryTake(out work)) work = null; }
            else
            {
                try { work = queue.Take(); }
                catch (InvalidOperationException) { return; } // disposed
            }
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            if (work is not null)
            {
                work();
                // What is queued joins before the next step (submissions arrive as items), for up to a slice of time.
                while (System.Diagnostics.Stopwatch.GetElapsedTime(started) < ItemSlice && queue.TryTake(out var more)) more();
            }
            foreach (var s in schedulers.ToList())
            {
                if (!s.HasWork) continue;
                // Step ends the rows a failure touches and keeps going; whatever still escapes must not
                // leave the thread, where it would end the whole silo process.
                try { s.Step(); }
                catch (Exception e) { Console.Error.WriteLine($"rft-device-{Name}: a decode step failed outside its rows: {e.Message}"); }
            }
            BusySeconds += System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (queue.IsCompleted) return;
        }
    }

    /// <summary>Stops taking work and waits for the thread to finish what it is running (queued items and one last step).</summary>
    public void Dispose()
    {
        queue.CompleteAdding();
        if (!IsCurrentThread) thread.Join();
    }
}
