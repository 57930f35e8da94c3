using System.Collections.Concurrent;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// Counts <see cref="IJobGrain.GetSnapshot"/> calls per job as they arrive at the silo (an incoming grain call
/// filter), so a test can see whether something still polls a job: the events stream after its client left.
/// </summary>
public sealed class SnapshotCallCounter : IIncomingGrainCallFilter
{
    readonly ConcurrentDictionary<string, int> calls = new();

    public int Of(string jobId) => calls.GetValueOrDefault(jobId);

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.Grain is IJobGrain && context.InterfaceMethod.Name == nameof(IJobGrain.GetSnapshot))
            calls.AddOrUpdate(context.TargetId.Key.ToString()!, 1, (_, n) => n + 1);
        return context.Invoke();
    }
}
