using Azure.Storage.Blobs;

namespace Orleans.Rft.Grains.Services;

/// <summary>
/// Artifacts as blobs in one Azure Blob Storage container; remote folders are copied to a local
/// <see cref="ArtifactCache"/> (one per cluster and service, bounded, least recently used evicted)
/// when materialized. A cached file is reused as it is, which is right only because published
/// artifacts are never rewritten under the same name.
/// </summary>
public sealed class BlobArtifactStore : IArtifactStore
{
    readonly BlobContainerClient container;

    /// <param name="cache">where materialized folders go: <see cref="ArtifactCache.RootFor"/> the cluster and service</param>
    public BlobArtifactStore(string connectionString, string containerName, ArtifactCache cache)
    {
        container = new BlobContainerClient(connectionString, containerName);
        container.CreateIfNotExists();
        Cache = cache;
    }

    /// <summary>A store whose cache is <paramref name="cacheRoot"/> itself, bounded by the default 4 GiB.</summary>
    public BlobArtifactStore(string connectionString, string containerName, string cacheRoot)
        : this(connectionString, containerName, new ArtifactCache(cacheRoot, DefaultCacheBytes)) { }

    public const long DefaultCacheBytes = 4L << 30;

    public ArtifactCache Cache { get; }
    public bool AllowLocalPaths { get; init; }
    public string Describe => container.Uri.ToString();

    BlobClient Blob(string path) => container.GetBlobClient(ArtifactPaths.Checked(path));

    public async Task WriteAsync(string path, byte[] content, CancellationToken cancellation = default) =>
        await Blob(path).UploadAsync(new BinaryData(content), overwrite: true, cancellation);

    public async Task WriteFileAsync(string path, string localFile, CancellationToken cancellation = default) =>
        await Blob(path).UploadAsync(localFile, overwrite: true, cancellation);

    public async Task<bool> ExistsAsync(string path, CancellationToken cancellation = default) =>
        (await Blob(path).ExistsAsync(cancellation)).Value;

    public async Task<byte[]?> ReadAsync(string path, CancellationToken cancellation = default)
    {
        var blob = Blob(path);
        if (!(await blob.ExistsAsync(cancellation)).Value) return null;
        return (await blob.DownloadContentAsync(cancellation)).Value.Content.ToArray();
    }

    public async Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellation = default)
    {
        var names = new List<string>();
        await foreach (var item in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, ArtifactPaths.Checked(prefix) + "/", cancellation)) names.Add(item.Name);
        return names;
    }

    public async Task DeleteAsync(string prefix, CancellationToken cancellation = default)
    {
        foreach (var name in await ListAsync(prefix, cancellation)) await container.DeleteBlobIfExistsAsync(name, cancellationToken: cancellation);
    }

    public async Task<string> MaterializeAsync(string prefix, CancellationToken cancellation = default)
    {
        prefix = ArtifactPaths.Checked(prefix);
        var files = (await ListAsync(prefix, cancellation)).Select(name => (Name: name[(prefix.Length + 1)..], StorePath: name)).ToList();
        return await Download(prefix, files, cancellation);
    }

    public IDisposable? TryPin(string localPath) =>
        Cache.FolderHolding(localPath) is { } folder ? Cache.TryPin(folder) : ArtifactLease.NothingToPin;

    public Task<string> MaterializeFilesAsync(string key, IReadOnlyList<(string Name, string StorePath)> files, CancellationToken cancellation = default) =>
        Download(@"\files\" + ArtifactPaths.Checked(key), files, cancellation); // '\' is in no store path: never the same folder as a prefix

    async Task<string> Download(string key, IReadOnlyList<(string Name, string StorePath)> files, CancellationToken cancellation)
    {
        var local = Cache.FolderFor(key);
        using (Cache.Pin(local))
        {
            foreach (var (name, storePath) in files)
            {
                var target = Path.GetFullPath(Path.Combine(local, ArtifactPaths.Checked(name).Replace('/', Path.DirectorySeparatorChar)));
                if (!ArtifactPaths.IsInside(local, target)) throw new ArgumentException($"artifact file name '{name}' escapes its folder.");
                if (File.Exists(target)) continue;
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                // Download beside the target and rename: a download cut short must not pass for the file.
                var partial = $"{target}.{Guid.NewGuid():N}.partial";
                await Blob(storePath).DownloadToAsync(partial, cancellation);
                File.Move(partial, target, overwrite: true);
            }
            Cache.Trim();
        }
        return local;
    }
}
