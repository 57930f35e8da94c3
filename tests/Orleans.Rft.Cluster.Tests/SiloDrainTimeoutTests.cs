using System.Diagnostics;
using System.Net;
using System.Reflection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs;
using Orleans.Rft.Grains.Services;
using Orleans.Rft.Silo;
using Orleans.Runtime;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// A stopping silo tells its jobs it drains; a job grain that never answers (its silo gone, its queue
/// stuck) must not keep the silo past Rft:DrainSeconds: the calls that tell the jobs are inside that
/// limit, not before it (they were: 15 s a call, 16 at a time, and only then the drain's own wait began).
/// </summary>
public sealed class SiloDrainTimeoutTests
{
    [Fact]
    public async Task A_drain_whose_job_grains_never_answer_ends_within_drain_seconds()
    {
        var jobsHere = new LocalJobs();
        for (int i = 0; i < 40; i++) jobsHere.Add($"job-{i}"); // 40 jobs: 3 rounds of 16 calls of 15 s each without the limit
        var options = new RftSiloOptions { DrainSeconds = 2 };
        var drain = new SiloDrain(new LocalSilo(), DispatchProxy.Create<IGrainFactory, NeverAnsweringJobs>(), new TrainerRankRegistry(), jobsHere,
            new RolloutRequestsInFlight(), options, NullLogger<SiloDrain>.Instance);

        var watch = Stopwatch.StartNew();
        await drain.DrainAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        // 2 s of drain; generous room for a loaded 2-core machine, far below one 15 s call.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"the drain took {watch.Elapsed.TotalSeconds:0.0} s with Rft:DrainSeconds = {options.DrainSeconds}");
    }

    sealed class LocalSilo : ILocalSiloDetails
    {
        public string Name => "drain-test";
        public string ClusterId => "drain-test";
        public string DnsHostName => "localhost";
        public SiloAddress SiloAddress { get; } = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111), 1);
        public SiloAddress? GatewayAddress => null;
    }

    /// <summary>A grain factory whose job grains take every Drain call and never answer. (DispatchProxy needs an unsealed class.)</summary>
    public class NeverAnsweringJobs : DispatchProxy
    {
        protected override object? Invoke(MethodInfo? method, object?[]? args) =>
            method?.Name == nameof(IGrainFactory.GetGrain) && method.ReturnType == typeof(IJobDrain)
                ? DispatchProxy.Create<IJobDrain, NeverAnsweringDrain>()
                : throw new NotSupportedException($"the drain test's grain factory has no {method?.Name}<{method?.ReturnType.Name}>");
    }

    public class NeverAnsweringDrain : DispatchProxy
    {
        protected override object? Invoke(MethodInfo? method, object?[]? args) => new TaskCompletionSource<DrainAnswer>().Task;
    }
}
