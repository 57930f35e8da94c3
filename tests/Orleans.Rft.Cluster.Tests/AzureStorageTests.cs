using System.Text;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Services;
using Orleans.Rft.Silo;
using Orleans.TestingHost;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>The cluster configuration: Azure Table grain state and reminders, Blob artifacts — against Azurite.</summary>
public sealed class AzureStorageTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Blob_artifacts_round_trip_list_materialize_and_delete()
    {
        var cache = Path.Combine(Path.GetTempPath(), "orleans-rft-blob-cache", Guid.NewGuid().ToString("N")[..8]);
        var store = new BlobArtifactStore(azurite.ConnectionString, "roundtrip", cache);
        await store.WriteAsync("jobs/a/adapters/v1/adapter_config.json", Encoding.UTF8.GetBytes("{\"r\":8}"));
        await store.WriteAsync("jobs/a/adapters/v1/adapter_model.safetensors", new byte[] { 1, 2, 3 });
        Assert.Equal("{\"r\":8}", Encoding.UTF8.GetString((await store.ReadAsync("jobs/a/adapters/v1/adapter_config.json"))!));
        Assert.Null(await store.ReadAsync("jobs/a/missing"));
        var local = Path.GetTempFileName();
        await File.WriteAllBytesAsync(local, [4, 5, 6]);
        await store.WriteFileAsync("jobs/b/blob.bin", local);
        Assert.Equal(new byte[] { 4, 5, 6 }, await store.ReadAsync("jobs/b/blob.bin"));
        Assert.Equal(2, (await store.ListAsync("jobs/a/adapters/v1")).Count);
        var materialized = await store.MaterializeAsync("jobs/a/adapters/v1");
        Assert.Equal(new byte[] { 1, 2, 3 }, await File.ReadAllBytesAsync(Path.Combine(materialized, "adapter_model.safetensors")));
        await store.DeleteAsync("jobs/a");
        Assert.Empty(await store.ListAsync("jobs/a/adapters/v1"));
    }

    [Fact]
    public async Task A_job_stopped_mid_run_resumes_in_a_new_cluster_samples_redone_versions_from_their_own_bytes_and_ends_with_the_uninterrupted_adapter()
    {
        await using var toy = new ClusterFixture();
        await toy.InitializeModelAndData();
        var serviceId = "rft-resume-" + Guid.NewGuid().ToString("N")[..8];
        var id = "resume-" + serviceId[^8..];
        InProcessTestCluster Build(int drainSeconds = 120) => AzureCluster(serviceId, drainSeconds);
        var spec = toy.Spec(id, trainers: 1, maxSteps: 10) with { Checkpoint = new CheckpointSpec(EverySteps: 4, KeepBest: false) };
        // No drain: the first cluster goes away as in a crash. A drain would checkpoint the paused step and
        // nothing would be redone (ElasticClusterTests covers that); here the redone versions are the point.
        var first = Build(drainSeconds: 0);
        await first.DeployAsync();
        var job = first.Client.GetGrain<IJobGrain>(id);
        await job.Submit(spec);
        await JobWait.For(job, s => s.Step >= 5);
        await job.Pause();                                       // a durable request: the next cluster comes up paused
        var stoppedAt = (await JobWait.For(job, s => s.Events!.Any(e => e.Kind == "paused"))).Step;
        await first.DisposeAsync();                              // the cluster goes away mid-job

        // The lost run sampled versions past its last checkpoint (step 4) and the blob store's local cache
        // kept them. Make those cached bytes differ from what a redo publishes (as a redo on another
        // topology or device would): a redone version must never be sampled from the lost run's cache.
        var cached = Directory.EnumerateFiles(Path.Combine(Path.GetTempPath(), "orleans-rft"), "adapter_model.safetensors", SearchOption.AllDirectories)
            .Where(f => f.Contains(Uri.EscapeDataString($"jobs/{id}/adapters/"))).ToList(); // the cache names a folder by its escaped store prefix
        Assert.NotEmpty(cached);
        foreach (var file in cached)
        {
            var tensors = Engine.IO.SafeTensorsFile.Load(file);
            Engine.IO.SafeTensorsFile.Save(file, tensors.ToDictionary(t => t.Key, t => t.Value.add(0.25)));
        }

        var second = Build();
        await second.DeployAsync();
        try
        {
            var resumed = second.Client.GetGrain<IJobGrain>(id);
            var stopped = await resumed.GetSnapshot();               // activation re-arms the timer
            Assert.Equal((JobStatus.Paused, stoppedAt), (stopped.Status, stopped.Step));
            await resumed.Resume();
            var s = await JobWait.For(resumed, s => s.Status.IsFinal());
            Assert.True(s.Status == JobStatus.Completed, s.LastError);
            Assert.Equal(10, s.Step);
            var steps = (await resumed.GetHistory(0)).Select(h => h.Step).ToList();
            Assert.Equal(Enumerable.Range(1, 10), steps);             // rolled back to the checkpoint, no step counted twice
            Assert.Equal(10, s.PolicyVersion);
            // The pause lands at a step boundary that depends on the machine's speed; the resume is at the
            // last checkpoint at or before it (every 4 steps), and the steps after it are redone.
            Assert.Contains(s.Events!, e => e.Kind == "rollback" && e.Message.Contains($"resumes at step {stoppedAt / 4 * 4} "));
            // The metrics log in the artifact store agrees: the steps redone after the rollback appear once.
            var store = new BlobArtifactStore(azurite.ConnectionString, serviceId, Path.Combine(Path.GetTempPath(), "orleans-rft-blob-cache", serviceId));
            var segment = Assert.Single(await store.ListAsync($"jobs/{id}/metrics"));
            var logged = Encoding.UTF8.GetString((await store.ReadAsync(segment))!).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => System.Text.Json.JsonSerializer.Deserialize<StepMetrics>(line)!.Step);
            Assert.Equal(Enumerable.Range(1, 10), logged);
            // Adapter, optimizer state and cursor came back from the checkpoint: the result is the uninterrupted run's.
            var reference = await ClusterFixture.RunToEnd(second.Client, id + "-ref", spec with { Name = id + "-ref" });
            Assert.True(reference.Status == JobStatus.Completed, reference.LastError);
            AdapterComparison.AssertSame(
                await AdapterComparison.Flat(second.Client.GetGrain<IJobGrain>(id + "-ref"), Path.Combine(toy.Root, "ref-adapter")),
                await AdapterComparison.Flat(resumed, Path.Combine(toy.Root, "resumed-adapter")), "resumed in a new cluster");
        }
        finally { await second.DisposeAsync(); }
    }

    [Fact]
    public async Task A_job_in_Azure_Table_state_with_Blob_artifacts_survives_a_cluster_restart()
    {
        await using var toy = new ClusterFixture();
        await toy.InitializeModelAndData();
        var serviceId = "rft-azure-" + Guid.NewGuid().ToString("N")[..8];
        InProcessTestCluster Build(int drainSeconds = 120) => AzureCluster(serviceId, drainSeconds);

        var first = Build();
        await first.DeployAsync();
        var snapshot = await ClusterFixture.RunToEnd(first.Client, "azure-job", toy.Spec("azure-job", trainers: 1, maxSteps: 2));
        Assert.True(snapshot.Status == JobStatus.Completed, snapshot.LastError);
        await first.DisposeAsync();

        var second = Build();
        await second.DeployAsync();
        try
        {
            var job = second.Client.GetGrain<IJobGrain>("azure-job");
            var restored = await job.GetSnapshot();
            Assert.Equal(JobStatus.Completed, restored.Status);
            Assert.Equal(2, restored.Step);
            Assert.Equal(2, (await job.GetHistory(0)).Count);
            Assert.Equal(32, (await Client.Jobs.RolloutReader.ReadAllAsync(job, 1)).Count);           // the rollout log lives in the blob container
            var adapter = await job.GetAdapter(null);
            Assert.True(adapter.WeightsBytes > 0);
            Assert.Contains("\"peft_type\": \"LORA\"", adapter.ConfigJson);
        }
        finally { await second.DisposeAsync(); }
    }

    [Fact]
    public async Task A_600_step_job_keeps_its_Azure_Table_state_entity_under_64_KB_and_its_checkpoints_to_keep_last()
    {
        // 600 steps of a micro model: history, checkpoints, retired adapters and events must all stay bounded.
        await using var toy = new ClusterFixture();
        await toy.InitializeModelAndData();
        var serviceId = "rft-bounded-" + Guid.NewGuid().ToString("N")[..8];
        var id = "bounded-" + serviceId[^8..];
        // Azure Table state (what is measured) with local artifacts: Azurite lists blobs by scanning
        // them all, which would make 600 steps' worth of rollout logs the test's cost, not the job's.
        var artifacts = Path.Combine(toy.Root, "artifacts");
        var cluster = ClusterFixture.BuildCluster(1, new RftSiloOptions
        {
            Devices = "cpu", Storage = "azure", ArtifactsPath = artifacts, AzureStorageConnectionString = azurite.ConnectionString, AllowLocalPaths = true,
        }, serviceId);
        await cluster.DeployAsync();
        try
        {
            var spec = toy.Spec(id, trainers: 1, maxSteps: 600) with
            {
                EvalDataset = null,
                Training = new TrainingSpec(LearningRate: 0.05, BatchPrompts: 1, MicroBatch: 16, Trainers: 1, MaxSteps: 600, Epochs: 40),
                Inference = new InferenceSpec(N: 2, MaxTokens: 2),
                Checkpoint = new CheckpointSpec(EverySteps: 50, KeepBest: false, KeepLast: 3),
            };
            var s = await ClusterFixture.RunToEnd(cluster.Client, id, spec, TimeSpan.FromMinutes(6)); // ~1 min on 2 idle cores
            Assert.True(s.Status == JobStatus.Completed, s.LastError);
            Assert.Equal(600, s.Step);

            var entity = await JobStateEntityBytes(id);
            Assert.True(entity < 64 * 1024, $"the job's state entity is {entity} bytes after 600 steps");
            // The full history is still there: the older steps come from the metrics segments.
            Assert.Equal(Enumerable.Range(1, 600), (await cluster.Client.GetGrain<IJobGrain>(id).GetHistory(0)).Select(h => h.Step));
            var store = new LocalArtifactStore(artifacts);
            var checkpoints = (await store.ListAsync($"jobs/{id}/checkpoints")).Select(p => p.Split('/')[3]).Distinct().Order().ToList();
            Assert.Equal(["g0001-step-000500", "g0001-step-000550", "g0001-step-000600"], checkpoints);
            Assert.Single((await store.ListAsync($"jobs/{id}/adapters")).Select(p => p.Split('/')[3]).Distinct());
            Assert.Contains(await store.ListAsync($"jobs/{id}/checkpoints/g0001-step-000600"), p => p.EndsWith("/optimizer-rank0.safetensors"));
        }
        finally { await cluster.DisposeAsync(); }
    }

    /// <summary>The size of the job grain's state entity as Azure Table stores it: keys plus every property's value.</summary>
    async Task<long> JobStateEntityBytes(string jobId)
    {
        var tables = new Azure.Data.Tables.TableServiceClient(azurite.ConnectionString);
        long? size = null;
        await foreach (var table in tables.QueryAsync())
        {
            await foreach (var entity in tables.GetTableClient(table.Name).QueryAsync<Azure.Data.Tables.TableEntity>())
            {
                    if (entity.RowKey != "job" || !entity.PartitionKey.EndsWith("_" + jobId)) continue; // {serviceId}_{grain type}_{key}, row: the state name
                Assert.True(size is null, $"a second entity for the job state: {table.Name} {entity.PartitionKey} {entity.RowKey} {string.Join(",", entity.Keys)}");
                size = 2L * (entity.PartitionKey.Length + entity.RowKey.Length) + entity.Keys.Sum(k => 2L * k.Length + entity[k] switch
                {
                    byte[] b => b.Length,
                    BinaryData b => b.ToArray().Length,
                    string str => 2L * str.Length,
                    _ => 8,
                });
            }
        }
        return size ?? throw new InvalidOperationException($"no table entity holds job {jobId}'s state");
    }

    /// <summary>One silo with Azure Table state and reminders and Blob artifacts; the same service id finds the same state.</summary>
    InProcessTestCluster AzureCluster(string serviceId, int drainSeconds = 120)
    {
        var options = new RftSiloOptions
        {
            DrainSeconds = drainSeconds, Devices = "cpu", Storage = "azure", Artifacts = "blob", ArtifactsContainer = serviceId, AllowLocalPaths = true,
            AzureStorageConnectionString = azurite.ConnectionString,
        };
        return ClusterFixture.BuildCluster(1, options, serviceId);
    }
}
