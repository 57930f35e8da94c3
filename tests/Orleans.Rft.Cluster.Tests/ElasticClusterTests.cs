using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs;
using Orleans.Runtime;
using Xunit.Abstractions;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// Issue 12's acceptance on real silo processes and Azurite: a job on 3 silos, a 4th added mid-job takes
/// a share of the rollouts (StepMetrics.RolloutsBySilo), a SIGTERM drains a silo holding a trainer rank
/// without a rollback, and kill -9 of the silo holding the job grain and then of one holding a rank cost
/// rollbacks but not the job: it completes with every step exactly once. Prints the measured figures
/// (time from a kill to the next completed step, the added silo's share) for the README.
/// </summary>
public sealed class ElasticClusterTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    const string JobId = "elastic";
    const int Steps = 60; // room for the kills on a quiet machine: 30 steps once ended (in 46 s) before the last kill landed
    static readonly TimeSpan Wait = TimeSpan.FromSeconds(150), CallTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_silo_added_mid_job_takes_rollouts_a_sigterm_drains_without_rollback_and_kill_9s_lose_no_step()
    {
        await using var toy = new ClusterFixture();
        await toy.InitializeModelAndData();
        var spec = toy.Spec(JobId, trainers: 2, maxSteps: Steps) with { Checkpoint = new CheckpointSpec(EverySteps: 2, KeepBest: false) };
        spec = spec with { Inference = spec.Inference with { N = 4 } }; // 4 prompts × 4 samples: a step of a few seconds on a busy 2-core machine
        await using var cluster = new ProcessCluster(azurite.ConnectionString, "elastic", toy.Root);
        var watch = Stopwatch.StartNew();
        var silos = new Dictionary<int, SiloProcess>(); // by silo port: RolloutsBySilo and grain statistics name silos by address
        void Log(string what) => output.WriteLine($"{watch.Elapsed.TotalSeconds,6:0.0}s {what}");
        async Task<SiloProcess> Start(string name)
        {
            // Each silo its own silo port: they run side by side (ProcessCluster's shared port is for one silo at a time).
            int port = ClusterConnection.FreePort();
            var silo = await cluster.StartSiloAsync(name, new Dictionary<string, string> { ["Rft__SiloPort"] = $"{port}" });
            lock (silos) silos[port] = silo;
            return silo;
        }
        try
        {
            await Task.WhenAll(Start("a"), Start("b"), Start("c"));
            var grains = await cluster.ConnectAsync();
            var job = grains.GetGrain<IJobGrain>(JobId);
            await job.Submit(spec).WaitAsync(CallTimeout);
            Log("3 silos up, job submitted");
            await Until(job, s => s.Step >= 1, "a step on 3 silos");

            // 1. A fourth silo joins: it gets rollouts from a step that starts after it is active.
            var added = await Start("d");
            int addedPort = silos.Single(s => s.Value == added).Key;
            int joinedAt = (await Snapshot(job)).Step;
            Log($"silo d added (port {addedPort}) after step {joinedAt}");
            var withD = await Until(job, async () => (await History(job)).Where(m => m.Step > joinedAt + 1 && Share(m, addedPort) > 0).Take(3).Count() == 3, "3 steps with rollouts on the added silo");
            var afterJoin = (await History(job)).Where(m => m.Step > joinedAt + 1).ToList();
            var share = afterJoin.Sum(m => Share(m, addedPort)) / (double)afterJoin.Sum(m => m.RolloutsBySilo!.Values.Sum());
            Log($"added silo's share of rollouts over steps {afterJoin[0].Step}–{afterJoin[^1].Step}: {share:P0} ({string.Join("; ", afterJoin.Select(m => $"{m.Step}: {Describe(m.RolloutsBySilo!)}"))})");
            // 4 CPU silos of one kind: about a quarter (4 prompts a step, so one prompt is 25 %; a silo measured
            // more than twice as fast or slow as the mean takes more or less).
            Assert.InRange(share, 0.10, 0.55);

            // 2. SIGTERM of a silo holding a trainer rank (the job grain's silo if that holds one too): it drains, no rollback.
            var (jobSilo, rankSilos) = await Placement(grains);
            int drainPort = rankSilos.Contains(jobSilo) ? jobSilo : rankSilos.First(p => p != addedPort);
            var drained = silos[drainPort];
            var beforeTerm = await Snapshot(job);
            Assert.False(beforeTerm.Status.IsFinal(), $"the job ended ({beforeTerm.Status}) before the SIGTERM: give it more steps");
            int stepAtTerm = beforeTerm.Step;
            var termWatch = Stopwatch.StartNew();
            Log($"SIGTERM silo {drained.Name} (port {drainPort}; job grain on {jobSilo}, ranks on {string.Join(", ", rankSilos)}) at step {stepAtTerm}");
            Assert.True(await drained.TerminateAsync(TimeSpan.FromSeconds(180)), $"silo {drained.Name} did not exit within 180 s of SIGTERM");
            var drainSeconds = termWatch.Elapsed.TotalSeconds;
            Log($"silo {drained.Name} exited {drainSeconds:0.0} s after SIGTERM");
            // The silo says what it drained: the jobs told, the ranks moved, the job grain that left.
            var drainLines = drained.Log().Split('\n').Where(l => l.Contains("drain", StringComparison.OrdinalIgnoreCase) || l.Contains($"Job {JobId} moves")).ToList();
            foreach (var line in drainLines) output.WriteLine("    " + line.Trim());
            Assert.Contains(drainLines, l => l.Contains("drained in") && l.Contains($"{JobId}|"));
            var afterDrain = await Until(job, s => s.Step >= stepAtTerm + 2, "2 steps after the drain");
            Log($"step {afterDrain.Step} {termWatch.Elapsed.TotalSeconds:0.0} s after SIGTERM; events: {string.Join(" | ", afterDrain.Events!.Select(e => $"{e.Kind}: {e.Message}"))}");
            Assert.DoesNotContain(afterDrain.Events!, e => e.Kind == "rollback");
            Assert.Contains(afterDrain.Events!, e => e.Kind == "drained");
            // Contiguous and each step once (the snapshot's step can be one ahead of the history while a step is written).
            var drainHistory = (await History(job)).Select(m => m.Step).ToList();
            Assert.Equal(Enumerable.Range(1, drainHistory.Count), drainHistory);
            Assert.True(drainHistory.Count > stepAtTerm, $"history ends at step {drainHistory.Count}, the SIGTERM came at step {stepAtTerm}");

            // 3. kill -9 of the silo holding the job grain, then of one holding a trainer rank.
            var figures = new List<string>();
            (jobSilo, _) = await Placement(grains);
            figures.Add(await KillAndTime(job, silos[jobSilo], "the job grain", Log));
            var (jobSiloNow, ranksNow) = await Placement(grains);
            var rankVictim = ranksNow.FirstOrDefault(p => p != jobSiloNow);
            if (rankVictim == 0)
            {
                // Both ranks share the job grain's silo: bring a silo in, so the ranks spread, and let a restart place them (the job's own kill -9 did).
                Log($"ranks all on the job grain's silo {jobSiloNow}: adding silo e");
                await Start("e");
                rankVictim = jobSiloNow;
            }
            figures.Add(await KillAndTime(job, silos[rankVictim], "a trainer rank", Log));

            var done = await Until(job, s => s.Status.IsFinal(), "the job's end", TimeSpan.FromSeconds(240));
            Assert.True(done.Status == JobStatus.Completed, $"{done.Status}: {done.LastError}");
            Assert.Equal((Steps, Steps), (done.Step, done.PolicyVersion));
            Assert.Equal(Enumerable.Range(1, Steps), (await History(job)).Select(m => m.Step));
            var logged = await MetricsLog(cluster.Artifacts());
            Assert.Equal(Enumerable.Range(1, Steps), logged.Select(m => m.Step));
            Assert.Contains(done.Events!, e => e.Kind == "rollback"); // the kills were felt
            Log($"completed; events: {string.Join(" | ", done.Events!.Select(e => $"{e.Kind}: {e.Message}"))}");
            output.WriteLine($"FIGURES added-silo share {share:P0}; {string.Join("; ", figures)}; SIGTERM→exit {drainSeconds:0.0} s; whole test {watch.Elapsed.TotalSeconds:0} s");
        }
        catch (Exception e)
        {
            throw new Exception($"{e.Message}\n\nsilo output:\n{cluster.Logs()}", e);
        }
    }

    /// <summary>kill -9 of <paramref name="victim"/>, then the time until the job is seen to complete a step (polled every 100 ms, calls of ≤ 3 s).</summary>
    static async Task<string> KillAndTime(IJobGrain job, SiloProcess victim, string holding, Action<string> log)
    {
        var before = await Snapshot(job);
        Assert.False(before.Status.IsFinal(), $"the job ended ({before.Status}, step {before.Step}) before the kill of the silo holding {holding}: give it more steps");
        await victim.KillAsync();
        var killedAt = DateTimeOffset.UtcNow;
        log($"kill -9 silo {victim.Name} (holding {holding}) at step {before.Step}");
        int previous = before.Step;
        var deadline = DateTime.UtcNow + Wait;
        DateTimeOffset? completed = null;
        while (completed is null && DateTime.UtcNow < deadline)
        {
            // Short calls: a call through the client's gateway on the dead silo is abandoned, and the next goes through another.
            var s = await TrySnapshot(job, TimeSpan.FromSeconds(3));
            if (s is not null)
            {
                if (s.Step > previous) completed = DateTimeOffset.UtcNow; // a step completed (a rollback lowers Step first)
                previous = s.Step;
            }
            await Task.Delay(100);
        }
        Assert.True(completed is not null, $"no step completed within {Wait.TotalSeconds} s of killing the silo holding {holding}");
        var line = $"kill -9 of the silo holding {holding} → next completed step {(completed!.Value - killedAt).TotalSeconds:0.0} s";
        log(line);
        return line;
    }

    /// <summary>Silo ports of the job grain's silo and of the silos holding its trainer ranks.</summary>
    static async Task<(int Job, List<int> Ranks)> Placement(IGrainFactory grains)
    {
        var stats = await grains.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics().WaitAsync(CallTimeout);
        var job = stats.Single(s => s.GrainId.Key.ToString() == JobId && s.GrainId.Type.ToString()!.Contains("job", StringComparison.OrdinalIgnoreCase)).SiloAddress.Endpoint.Port;
        var ranks = stats.Where(s => s.GrainId.Type.ToString()!.Contains("trainer", StringComparison.OrdinalIgnoreCase) && s.GrainId.Key.ToString()!.StartsWith(JobId + "|"))
            .Select(s => s.SiloAddress.Endpoint.Port).Distinct().ToList();
        return (job, ranks);
    }

    static int Share(StepMetrics m, int port) => m.RolloutsBySilo?.Where(kv => kv.Key.Contains($":{port}@")).Sum(kv => kv.Value) ?? 0;

    static string Describe(IReadOnlyDictionary<string, int> bySilo) => string.Join(", ", bySilo.Select(kv => $"{kv.Key.Split(':')[^1].Split('@')[0]}={kv.Value}"));

    static async Task<JobSnapshot> Snapshot(IJobGrain job) => await job.GetSnapshot().WaitAsync(CallTimeout);

    /// <summary>A snapshot, or null while the job grain is being re-activated after its silo died.</summary>
    static async Task<JobSnapshot?> TrySnapshot(IJobGrain job, TimeSpan? timeout = null)
    {
        try { return await job.GetSnapshot().WaitAsync(timeout ?? CallTimeout); }
        catch (Exception e) when (e is not OutOfMemoryException) { return null; }
    }

    static async Task<IReadOnlyList<StepMetrics>> History(IJobGrain job) => await job.GetHistory(0).WaitAsync(CallTimeout);

    static async Task<JobSnapshot> Until(IJobGrain job, Func<JobSnapshot, bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Wait);
        JobSnapshot? s = null;
        while (DateTime.UtcNow < deadline)
        {
            s = await TrySnapshot(job, TimeSpan.FromSeconds(5)) ?? s;
            if (s is not null && (condition(s) || s.Status.IsFinal())) break;
            await Task.Delay(100);
        }
        Assert.True(s is not null && condition(s), $"waiting for {what}: {(s is null ? "no snapshot" : $"{s.Status} step {s.Step} {s.LastError}")}");
        return s!;
    }

    static async Task<bool> Until(IJobGrain job, Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return true;
            var s = await TrySnapshot(job, TimeSpan.FromSeconds(5));
            Assert.False(s?.Status.IsFinal() == true, $"the job ended ({s?.Status}, step {s?.Step}) before {what}");
            await Task.Delay(200);
        }
        Assert.Fail($"timed out waiting for {what}");
        return false;
    }

    static async Task<List<StepMetrics>> MetricsLog(Grains.Services.IArtifactStore store)
    {
        var segment = Assert.Single(await store.ListAsync($"jobs/{JobId}/metrics"));
        return Encoding.UTF8.GetString((await store.ReadAsync(segment))!).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonSerializer.Deserialize<StepMetrics>(line)!).ToList();
    }
}
