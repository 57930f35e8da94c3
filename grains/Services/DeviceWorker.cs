using System.Collections.Concurrent;
using Orleans.Rft.Engine.Devices;

namespace Orleans.Rft.Grains.Services;

/// <summary>
/// One dedicated thread per device: every TorchSharp call for that device runs here, because
/// TorchSharp's dispose scopes and no-grad mode are thread-local and must never span an await.
/// Grains hand work in with <see cref="RunAsync{T}"/> and await the result off-thread.
/// </summary>
public sealed class DeviceWorker : IDisposable
{
    readonly BlockingCollection<Action> queue = new();
    readonly Thread thread;

    public DeviceWorker(string name, ComputeDevice device)
    {
        Name = name;
        Device = device;
        thread = new Thread(Loop) { IsBackground = true, Name = $"rft-device-{name}" };
        thread.Start();
    }

    public string Name { get; }
    public ComputeDevice Device { get; }

    /// <summary>Seconds of device work done so far (for the orchestration-overhead figure).</summary>
    public double BusySeconds { get; private set; }

    public Task<T> RunAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        queue.Add(() =>
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try { done.SetResult(work()); }
            catch (Exception e) { done.SetException(e); }
            finally { BusySeconds += System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds; }
        });
        return done.Task;
    }

    public Task RunAsync(Action work) => RunAsync(() => { work(); return true; });

    void Loop()
    {
        foreach (var work in queue.GetConsumingEnumerable()) work();
    }

    public void Dispose() => queue.CompleteAdding();
}
