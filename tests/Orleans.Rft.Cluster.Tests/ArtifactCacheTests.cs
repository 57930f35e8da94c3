using System.Text;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Cluster.Tests;

/// <summary>The local copy of remote artifacts is bounded, evicts least recently used folders, never one in use, and is per cluster and service.</summary>
public sealed class ArtifactCacheTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>, IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "orleans-rft-cache-tests", Guid.NewGuid().ToString("N")[..8]);

    static void Fill(string folder, int bytes, DateTime used)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "data.bin"), new byte[bytes]);
        Directory.SetLastWriteTimeUtc(folder, used);
    }

    [Fact]
    public void Over_its_limit_the_cache_evicts_least_recently_used_folders_first_and_keeps_the_most_recent()
    {
        var cache = new ArtifactCache(Path.Combine(dir, "lru"), limitBytes: 3000);
        var start = DateTime.UtcNow.AddHours(-1);
        for (int i = 0; i < 5; i++) Fill(cache.FolderFor($"jobs/a/adapters/v{i}"), 1000, start.AddMinutes(i));
        Directory.SetLastWriteTimeUtc(cache.FolderFor("jobs/a/adapters/v0"), start.AddMinutes(10)); // v0 used again, last of all
        var evicted = cache.Trim().Select(Path.GetFileName).ToList();
        Assert.Equal([Uri.EscapeDataString("jobs/a/adapters/v1"), Uri.EscapeDataString("jobs/a/adapters/v2")], evicted);
        Assert.True(Directory.Exists(cache.FolderFor("jobs/a/adapters/v0")));
        Assert.True(Directory.Exists(cache.FolderFor("jobs/a/adapters/v4")));
        Assert.Equal(3000, Directory.EnumerateFiles(cache.Root, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length));
    }

    [Fact]
    public void A_folder_pinned_by_a_materialization_in_progress_is_never_evicted()
    {
        var cache = new ArtifactCache(Path.Combine(dir, "pins"), limitBytes: 1000);
        var oldest = cache.FolderFor("models/old");
        Fill(oldest, 1000, DateTime.UtcNow.AddHours(-2));
        using (cache.Pin(oldest))
        {
            Directory.SetLastWriteTimeUtc(oldest, DateTime.UtcNow.AddHours(-2)); // still the least recently used
            Fill(cache.FolderFor("models/new"), 1000, DateTime.UtcNow.AddHours(-1));
            cache.Trim();
            Assert.True(Directory.Exists(oldest));
            Assert.False(Directory.Exists(cache.FolderFor("models/new")));
        }
        Fill(cache.FolderFor("models/newer"), 1000, DateTime.UtcNow);
        cache.Trim();
        Assert.False(Directory.Exists(oldest)); // unpinned: the least recently used goes
    }

    [Fact]
    public async Task Blob_materialization_stays_within_the_limit_and_keeps_the_folder_just_used()
    {
        var store = new BlobArtifactStore(azurite.ConnectionString, "cache-lru", new ArtifactCache(Path.Combine(dir, "blob"), limitBytes: 2500));
        for (int v = 0; v < 4; v++) await store.WriteAsync($"jobs/j/adapters/v{v}/adapter_model.safetensors", new byte[1000]);
        string last = "";
        for (int v = 0; v < 4; v++)
        {
            last = await store.MaterializeAsync($"jobs/j/adapters/v{v}");
            Assert.True(File.Exists(Path.Combine(last, "adapter_model.safetensors")));
            Assert.True(Directory.EnumerateFiles(store.Cache.Root, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) <= 2500);
        }
        Assert.True(Directory.Exists(last));
        Assert.False(Directory.Exists(store.Cache.FolderFor("jobs/j/adapters/v0")));
    }

    [Fact]
    public async Task Stores_of_different_clusters_or_services_on_one_machine_do_not_share_cached_files()
    {
        var shared = Path.Combine(dir, "machine");
        await new BlobArtifactStore(azurite.ConnectionString, "cache-ids", Path.Combine(dir, "writer"))
            .WriteAsync("jobs/j/adapters/v1/adapter_model.safetensors", Encoding.UTF8.GetBytes("trained"));
        BlobArtifactStore For(string service, string cluster) =>
            new(azurite.ConnectionString, "cache-ids", new ArtifactCache(ArtifactCache.RootFor(shared, service, cluster), 1 << 20));
        var a = await For("orleans-rft", "cluster-a").MaterializeAsync("jobs/j/adapters/v1");
        var b = await For("orleans-rft", "cluster-b").MaterializeAsync("jobs/j/adapters/v1");
        var c = await For("other-service", "cluster-a").MaterializeAsync("jobs/j/adapters/v1");
        Assert.Equal(3, new[] { a, b, c }.Distinct().Count());
        // What one cluster's cache holds is never served to another.
        File.WriteAllText(Path.Combine(a, "adapter_model.safetensors"), "stale");
        Assert.Equal("trained", File.ReadAllText(Path.Combine(await For("orleans-rft", "cluster-b").MaterializeAsync("jobs/j/adapters/v1"), "adapter_model.safetensors")));
        Assert.Equal("trained", File.ReadAllText(Path.Combine(await For("other-service", "cluster-a").MaterializeAsync("jobs/j/adapters/v1"), "adapter_model.safetensors")));
    }

    public void Dispose()
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }
}
