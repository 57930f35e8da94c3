using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.Engine.IO;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Jobs;
using Orleans.Rft.Grains.Services;
using Xunit.Abstractions;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// Real silo processes on Azurite, killed with SIGKILL at an exact moment: what survives a crash is
/// decided by what reached storage, and only separate processes test that honestly (an in-process
/// silo shares the test's memory, threads and caches).
/// </summary>
public sealed class SiloProcessFaultTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    const string JobId = "job";
    const int Steps = 6;
    /// <summary>
    /// Per weight, absolute. Both runs are the same executable, thread count and CPU, with every random
    /// draw seeded by (seed, step), so the expected difference is zero; the tolerance only leaves room
    /// for a reduction-order change, and is far below one step's update (lr 0.05 · Adam's ~1 per weight).
    /// Measured here: 0 (the adapters are bitwise equal).
    /// </summary>
    const float Tolerance = 1e-6f;
    // Upper bounds for a loaded 2-core machine: the whole test takes 20 s quiet, 75–100 s beside four busy builds.
    static readonly TimeSpan MarkerTimeout = TimeSpan.FromSeconds(180), RunTimeout = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task Kill_9_between_checkpoint_data_and_pointer_then_restart_completes_every_step_once_with_the_uninterrupted_runs_adapter()
    {
        await using var toy = new ClusterFixture();
        await toy.InitializeModelAndData();
        // Checkpoints at steps 2, 4 and 6; the silo dies in the second one (step 4), whose data is
        // written but whose pointer is not, so the job must resume from step 2's and redo 3 and 4.
        var spec = toy.Spec("fault", trainers: 1, maxSteps: Steps) with { Checkpoint = new CheckpointSpec(EverySteps: 2) };
        var marker = Path.Combine(toy.Root, "fault-marker");
        var armed = new Dictionary<string, string>
        {
            ["RFT_FAULT_POINT"] = FaultPoints.CheckpointDataWritten, ["RFT_FAULT_HIT"] = "2", ["RFT_FAULT_MARKER"] = marker,
        };
        // The uninterrupted run: the same silo executable, configuration and spec, on its own cluster
        // (own ids, container and blob cache), run beside the faulted one to save time.
        await using var baseline = new ProcessCluster(azurite.ConnectionString, "base", toy.Root);
        await using var faulted = new ProcessCluster(azurite.ConnectionString, "fault", toy.Root);
        var watch = Stopwatch.StartNew();
        try
        {
            var silos = await Task.WhenAll(baseline.StartSiloAsync("a"), faulted.StartSiloAsync("a", armed));
            var victim = silos[1];
            var baseJob = (await baseline.ConnectAsync()).GetGrain<IJobGrain>(JobId);
            var doomedJob = (await faulted.ConnectAsync()).GetGrain<IJobGrain>(JobId);
            await Task.WhenAll(baseJob.Submit(spec).WaitAsync(TimeSpan.FromSeconds(30)), doomedJob.Submit(spec).WaitAsync(TimeSpan.FromSeconds(30)));
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0}s: silos up, jobs submitted");

            var deadline = DateTime.UtcNow + MarkerTimeout;
            while (!File.Exists(marker) && !victim.HasExited && DateTime.UtcNow < deadline) await Task.Delay(50);
            Assert.True(File.Exists(marker), $"the silo never reached {FaultPoints.CheckpointDataWritten} a second time (exited: {victim.HasExited})");
            await victim.KillAsync();
            // Blob times are kept to the second: the restart begins on the next whole second, so every
            // write before the kill is dated before `boundary` and every write after the restart at or after it.
            var now = DateTimeOffset.UtcNow;
            var boundary = new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero).AddSeconds(1);
            await Task.Delay(boundary - now + TimeSpan.FromMilliseconds(10));
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0}s: killed silo {victim.Id} at the fault point ({File.ReadAllText(marker).Trim()})");
            var store = faulted.Artifacts();
            // the data did reach storage (under the first run's generation, whatever number that is)
            Assert.Contains(await store.ListAsync($"{JobPaths.Root(JobId)}/checkpoints"), p => p.EndsWith("-step-000004/manifest.json"));

            await faulted.StartSiloAsync("b");                            // not armed
            var job = (await faulted.ConnectAsync()).GetGrain<IJobGrain>(JobId);
            var restarted = await job.GetSnapshot().WaitAsync(TimeSpan.FromSeconds(30)); // activation re-arms the step timer
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0}s: restarted; first snapshot {restarted.Status} step {restarted.Step}");
            var (done, baseDone) = (await RunToEnd(job), await RunToEnd(baseJob));
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0}s: both runs final");

            Assert.True(baseDone.Status == JobStatus.Completed, $"the uninterrupted run: {baseDone.Status} {baseDone.LastError}");
            Assert.True(done.Status == JobStatus.Completed, $"the resumed run: {done.Status} {done.LastError}");
            Assert.Equal((Steps, Steps), (done.Step, done.PolicyVersion));

            // Every step exactly once: in the job state's history and in the metrics log in the blob store.
            var history = await job.GetHistory(0).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(Enumerable.Range(1, Steps), history.Select(h => h.Step));
            var logged = await MetricsLog(store);
            Assert.Equal(Enumerable.Range(1, Steps), logged.Select(m => m.Step));
            // It resumed from step 2's checkpoint (the pointer the state held), neither from step 4's
            // unreferenced data nor from scratch: steps 1–2 were not redone, 3–4 were, after the kill.
            var written = new List<DateTimeOffset>();
            for (int step = 1; step <= 4; step++) written.Add(await faulted.LastModifiedAsync(JobPaths.Rollouts(JobId, step - 1)));
            Assert.True(written[0] < boundary && written[1] < boundary && written[2] >= boundary && written[3] >= boundary,
                $"rollout logs of steps 1–4 written at {string.Join(", ", written.Select(w => w.ToString("HH:mm:ss")))}, the restart at {boundary:HH:mm:ss}: " +
                "expected steps 1–2 before it (kept from the checkpoint) and 3–4 after it (redone)");

            // Where the two runs part, if they do: step k's rollouts, loss and gradient norm are computed
            // from the adapter after step k−1 (and the optimizer state), so the first step that differs
            // dates the divergence to the update, or the restore, just before it.
            var baseLogged = await MetricsLog(baseline.Artifacts());
            var divergence = new StringBuilder();
            int? firstDifferent = null;
            for (int step = 1; step <= Steps; step++)
            {
                var (a, b) = (await Client.Jobs.RolloutReader.ReadAllAsync(baseJob, step - 1), await Client.Jobs.RolloutReader.ReadAllAsync(job, step - 1));
                bool sameRollouts = a.Count == b.Count && a.Zip(b).All(p => p.First.CompletionIds.SequenceEqual(p.Second.CompletionIds) && p.First.LogProbs.SequenceEqual(p.Second.LogProbs));
                var (ma, mb) = (baseLogged[step - 1], logged[step - 1]);
                bool sameUpdate = ma.Loss == mb.Loss && ma.GradNorm == mb.GradNorm;
                if (!(sameRollouts && sameUpdate)) firstDifferent ??= step;
                divergence.AppendLine($"step {step}: rollouts {(sameRollouts ? "identical" : "DIFFER")}, loss {ma.Loss:R} vs {mb.Loss:R}, grad norm {ma.GradNorm:R} vs {mb.GradNorm:R}");
            }
            output.WriteLine(divergence.ToString());

            var (baseWeights, weights) = (await Adapter(baseJob, Path.Combine(toy.Root, "export-base")), await Adapter(job, Path.Combine(toy.Root, "export-fault")));
            Assert.Equal(baseWeights.Keys.Order(), weights.Keys.Order());
            var worst = baseWeights.Keys.Select(name => (name, diff: MaxAbsDiff(baseWeights[name], weights[name]))).MaxBy(x => x.diff);
            output.WriteLine($"final adapters: largest |Δ| {worst.diff:R} (tensor {worst.name}), {baseWeights.Values.Sum(w => w.Length)} weights");
            Assert.True(worst.diff <= Tolerance,
                $"the resumed run's final adapter differs from the uninterrupted run's by up to {worst.diff:R} (tensor {worst.name}); " +
                (firstDifferent is int k ? $"step {k} is the first whose rollouts, loss or grad norm differ, so the adapter or optimizer state after step {k - 1} already differed"
                    : "every step's rollouts, loss and grad norm agree, so only the last update differs") + $"\n{divergence}");
            output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0}s: done");
        }
        catch (Exception e)
        {
            throw new Exception($"{e.Message}\n\nsilo output:\n{faulted.Logs()}\n{baseline.Logs()}", e);
        }
    }

    [Fact]
    public async Task A_silo_process_that_cannot_start_fails_the_test_at_once_with_its_own_error()
    {
        var logs = Path.Combine(Path.GetTempPath(), "orleans-rft-cluster-tests", Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var watch = Stopwatch.StartNew();
            var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
                SiloProcess.StartAsync("bad", new Dictionary<string, string> { ["Rft__Clustering"] = "kubernetes" }, logs, TimeSpan.FromSeconds(60)));
            Assert.Contains("exit code 2", e.Message);
            Assert.Contains("Rft:Clustering is 'kubernetes'; use one of localhost, azure.", e.Message); // the silo's stderr, quoted
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}: the exit was not noticed before the ready timeout");
        }
        finally { try { Directory.Delete(logs, recursive: true); } catch (IOException) { } }
    }

    static async Task<JobSnapshot> RunToEnd(IJobGrain job)
    {
        var deadline = DateTime.UtcNow + RunTimeout;
        JobSnapshot s;
        while (!(s = await job.GetSnapshot().WaitAsync(TimeSpan.FromSeconds(30))).Status.IsFinal() && DateTime.UtcNow < deadline) await Task.Delay(250);
        return s;
    }

    static async Task<List<StepMetrics>> MetricsLog(IArtifactStore store)
    {
        var segment = Assert.Single(await store.ListAsync($"jobs/{JobId}/metrics"));
        return Encoding.UTF8.GetString((await store.ReadAsync(segment))!).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonSerializer.Deserialize<StepMetrics>(line)!).ToList();
    }

    /// <summary>The job's current adapter through the client's export path, as float32 weights by tensor name.</summary>
    static async Task<Dictionary<string, float[]>> Adapter(IJobGrain job, string directory)
    {
        await AdapterExporter.ExportAsync(job, null, directory);
        var file = Path.Combine(directory, "adapter_model.safetensors");
        var bytes = await File.ReadAllBytesAsync(file);
        long dataStart = 8 + BitConverter.ToInt64(bytes, 0); // safetensors: u64 LE header length, JSON header, data
        return SafeTensorsFile.ReadHeader(file).Values.ToDictionary(e => e.Name, e =>
        {
            Assert.Equal("F32", e.DType);
            return MemoryMarshal.Cast<byte, float>(bytes.AsSpan((int)(dataStart + e.Begin), (int)(e.End - e.Begin))).ToArray();
        });
    }

    static float MaxAbsDiff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        float max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, float.IsNaN(a[i] - b[i]) ? float.PositiveInfinity : Math.Abs(a[i] - b[i]));
        return max;
    }
}
