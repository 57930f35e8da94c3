using System.Security.Cryptography;
using Orleans.Rft.Engine.Devices;
using Orleans.Rft.Engine.Lora;
using Orleans.Rft.Engine.Models;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Placement;
using Orleans.Rft.Grains.Services;
using Orleans.Rft.Silo;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>
/// A base model in use stays in the blob cache however many adapters are materialized after it, and a
/// cached file that vanished is fetched again rather than failing the job (Azurite, caches smaller
/// than one model plus one adapter).
/// </summary>
public sealed class ArtifactLeaseTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>, IAsyncLifetime
{
    readonly ClusterFixture toy = new();
    readonly DeviceWorker device = new("cpu", ComputeDevice.Cpu);
    readonly string container = "lease-" + Guid.NewGuid().ToString("N")[..8];
    string Dir => Path.Combine(toy.Root, "lease-cache");

    public Task InitializeAsync() => toy.InitializeModelAndData();

    long ModelBytes => Directory.EnumerateFiles(toy.ModelDir).Sum(f => new FileInfo(f).Length);

    BlobArtifactStore Store(string cacheRoot, long limit) => new(azurite.ConnectionString, container, new ArtifactCache(cacheRoot, limit));

    /// <summary>The model folder as rft submit uploads it: each file under its SHA-256, plus a manifest; returns its artifact: reference.</summary>
    static async Task<string> Upload(IArtifactStore store, string folder)
    {
        var hashes = new List<(string Name, string Sha)>();
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            var sha = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(file)));
            await store.WriteFileAsync(ArtifactReference.UploadPath(sha), file);
            hashes.Add((Path.GetFileName(file), sha));
        }
        var manifest = System.Text.Encoding.UTF8.GetBytes(ArtifactReference.Manifest(hashes));
        var manifestSha = Convert.ToHexStringLower(SHA256.HashData(manifest));
        await store.WriteAsync(ArtifactReference.UploadPath(manifestSha), manifest);
        return ArtifactReference.ForFolder(manifestSha);
    }

    [Fact]
    public async Task A_base_model_served_for_generation_survives_adapter_materializations_past_the_cache_limit_and_goes_once_released()
    {
        var store = Store(Path.Combine(Dir, "served"), limit: ModelBytes + 1000); // the model and less than one adapter
        var reference = await Upload(store, toy.ModelDir);
        for (int v = 0; v < 3; v++) await store.WriteAsync($"jobs/j/adapters/v{v}/adapter_model.safetensors", new byte[2000]);
        var host = new ModelHost(long.MaxValue);
        string folder;
        using (var lease = await store.LeaseAsync(reference))
        {
            folder = lease.Path;
            await device.RunAsync(() => host.ForGeneration(device, lease));
        } // the batch is over; the served model still holds the folder
        for (int v = 0; v < 3; v++) await store.MaterializeAsync($"jobs/j/adapters/v{v}");
        Assert.Equal(Directory.GetFiles(toy.ModelDir).Length, Directory.Exists(folder) ? Directory.GetFiles(folder).Length : 0);
        await device.RunAsync(() => host.Dispose()); // the served model goes: so does its pin
        await store.MaterializeAsync("jobs/j/adapters/v0");
        await store.MaterializeAsync("jobs/j/adapters/v1");
        Assert.False(Directory.Exists(folder)); // unpinned, least recently used: evicted like any other
    }

    [Fact]
    public async Task A_lease_keeps_its_folder_and_a_file_gone_from_the_cache_is_fetched_again_by_the_next_lease()
    {
        var store = Store(Path.Combine(Dir, "lease"), limit: 1000); // smaller than anything it holds
        var reference = await Upload(store, toy.ModelDir);
        await store.WriteAsync("jobs/j/adapters/v0/adapter_model.safetensors", new byte[2000]);
        string folder;
        using (var lease = await store.LeaseAsync(reference))
        {
            folder = lease.Path;
            await store.MaterializeAsync("jobs/j/adapters/v0"); // trims the cache: the leased folder stays
            Assert.True(File.Exists(Path.Combine(folder, "config.json")));
            File.Delete(Path.Combine(folder, "model.safetensors")); // lost meanwhile (a cleaner, another process)
        }
        using (var again = await store.LeaseAsync(reference))
        {
            Assert.Equal(folder, again.Path);
            using var model = LanguageModel.Load(again.Path); // every file is back
        }
    }

    [Fact]
    public async Task A_rollout_worker_whose_cached_base_model_was_evicted_materializes_it_again_when_it_must_load_the_model_anew()
    {
        var serviceId = "rft-lease-" + Guid.NewGuid().ToString("N")[..8];
        var cachePath = Path.Combine(Dir, "silo");
        var options = new RftSiloOptions
        {
            Devices = "cpu", Artifacts = "blob", ArtifactsContainer = container, AzureStorageConnectionString = azurite.ConnectionString,
            ArtifactCachePath = cachePath, ArtifactCacheMiB = 64,
        };
        var store = Store(Path.Combine(Dir, "writer"), 1 << 30);
        var reference = await Upload(store, toy.ModelDir);
        using (var model = LanguageModel.Load(toy.ModelDir))
        {
            model.AttachLora(new LoraConfig(Rank: 2, Alpha: 4, TargetModules: ["q_proj", "v_proj"]), seed: 1);
            PeftAdapter.Save(model, Path.Combine(toy.Root, "lease-adapter"));
        }
        await ((IArtifactStore)store).UploadDirectoryAsync(Path.Combine(toy.Root, "lease-adapter"), "jobs/lease/adapters/v1");
        var cluster = ClusterFixture.BuildCluster(1, options, serviceId);
        await cluster.DeployAsync();
        try
        {
            var worker = cluster.Client.GetGrain<IRolloutWorkerGrain>(DeviceKeys.For(cluster.Silos[0].SiloAddress.ToParsableString(), "cpu"));
            var rows = File.ReadLines(toy.DatasetPath).Take(2).ToArray();
            GenerateRequest Request(string? adapter) => new(reference, adapter, adapter is null ? -1 : 1, rows, 2, 1, 1, 0, 8, ["</s>"], 7);
            Assert.Equal(4, (await worker.Generate(Request(null))).Completions.Length);
            // The cache evicts the base model's folder (here: deleted, as a Trim would) while the worker knows its path.
            var cached = Directory.EnumerateFiles(cachePath, "config.json", SearchOption.AllDirectories).Select(Path.GetDirectoryName).Distinct().ToList();
            Assert.NotEmpty(cached);
            foreach (var folder in cached) Directory.Delete(folder!, recursive: true);
            // A LoRA shape not served yet: the base model must be loaded again from its files.
            Assert.Equal(4, (await worker.Generate(Request("jobs/lease/adapters/v1"))).Completions.Length);
        }
        finally { await cluster.DisposeAsync(); }
    }

    public async Task DisposeAsync()
    {
        device.Dispose();
        await toy.DisposeAsync();
    }
}
