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
    public async Task A_job_stopped_mid_run_resumes_from_its_last_checkpoint_in_a_new_cluster()
    {
        await using var toy = new ClusterFixture();
        await toy.InitializeModelAndData();
        var serviceId = "rft-resume-" + Guid.NewGuid().ToString("N")[..8];
        InProcessTestCluster Build() => AzureCluster(serviceId);
        var spec = toy.Spec("resume", trainers: 1, maxSteps: 8) with { Checkpoint = new CheckpointSpec(EverySteps: 2, KeepBest: false) };
        var first = Build();
        await first.DeployAsync();
        var job = first.Client.GetGrain<IJobGrain>("resume");
        await job.Submit(spec);
        while ((await job.GetSnapshot()).Step < 3) await Task.Delay(50);
        await first.DisposeAsync();                              // the silo goes away mid-job

        var second = Build();
        await second.DeployAsync();
        try
        {
            var resumed = second.Client.GetGrain<IJobGrain>("resume");
            var stopped = await resumed.GetSnapshot();               // activation re-arms the timer
            Assert.True(stopped.Step >= 3, $"state was lost: step {stopped.Step}");
            var deadline = DateTime.UtcNow.AddMinutes(2);
            JobSnapshot s;
            while (!(s = await resumed.GetSnapshot()).Status.IsFinal() && DateTime.UtcNow < deadline) await Task.Delay(100);
            Assert.True(s.Status == JobStatus.Completed, s.LastError);
            Assert.Equal(8, s.Step);
            var steps = (await resumed.GetHistory(0)).Select(h => h.Step).ToList();
            Assert.Equal(Enumerable.Range(1, 8), steps);              // rolled back to the checkpoint, no step counted twice
            Assert.Equal(8, s.PolicyVersion);
            // The metrics log in the artifact store agrees: the steps redone after the rollback appear once.
            var store = new BlobArtifactStore(azurite.ConnectionString, serviceId, Path.Combine(Path.GetTempPath(), "orleans-rft-blob-cache", serviceId));
            var segment = Assert.Single(await store.ListAsync("jobs/resume/metrics"));
            var logged = Encoding.UTF8.GetString((await store.ReadAsync(segment))!).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => System.Text.Json.JsonSerializer.Deserialize<StepMetrics>(line)!.Step);
            Assert.Equal(Enumerable.Range(1, 8), logged);
        }
        finally { await second.DisposeAsync(); }
    }

    [Fact]
    public async Task A_job_in_Azure_Table_state_with_Blob_artifacts_survives_a_cluster_restart()
    {
        await using var toy = new ClusterFixture();
        await toy.InitializeModelAndData();
        var serviceId = "rft-azure-" + Guid.NewGuid().ToString("N")[..8];
        InProcessTestCluster Build() => AzureCluster(serviceId);

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

    /// <summary>One silo with Azure Table state and reminders and Blob artifacts; the same service id finds the same state.</summary>
    InProcessTestCluster AzureCluster(string serviceId)
    {
        var options = new RftSiloOptions
        {
            Devices = "cpu", Storage = "azure", Artifacts = "blob", ArtifactsContainer = serviceId,
            AzureStorageConnectionString = azurite.ConnectionString,
        };
        return ClusterFixture.BuildCluster(1, options, serviceId);
    }
}
