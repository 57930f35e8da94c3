using Azure.Storage.Blobs;

namespace Orleans.Rft.Grains.Services;

/// <summary>Artifacts as blobs in one Azure Blob Storage container; remote folders are cached locally when materialized.</summary>
public sealed class BlobArtifactStore : IArtifactStore
{
    readonly BlobContainerClient container;
    readonly string cacheRoot;

    public BlobArtifactStore(string connectionString, string containerName, string cacheRoot)
    {
        container = new BlobContainerClient(connectionString, containerName);
        container.CreateIfNotExists();
        this.cacheRoot = cacheRoot;
    }

    public string Describe => container.Uri.ToString();

    public async Task WriteAsync(string path, byte[] content, CancellationToken cancellation = default) =>
        await container.GetBlobClient(path).UploadAsync(new BinaryData(content), overwrite: true, cancellation);

    public async Task WriteFileAsync(string path, string localFile, CancellationToken cancellation = default) =>
        await container.GetBlobClient(path).UploadAsync(localFile, overwrite: true, cancellation);

    public async Task<bool> ExistsAsync(string path, CancellationToken cancellation = default) =>
        (await container.GetBlobClient(path).ExistsAsync(cancellation)).Value;

    public async Task<byte[]?> ReadAsync(string path, CancellationToken cancellation = default)
    {
        var blob = container.GetBlobClient(path);
        if (!(await blob.ExistsAsync(cancellation)).Value) return null;
        return (await blob.DownloadContentAsync(cancellation)).Value.Content.ToArray();
    }

    public async Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellation = default)
    {
        var names = new List<string>();
        await foreach (var item in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, prefix.TrimEnd('/') + "/", cancellation)) names.Add(item.Name);
        return names;
    }

    public async Task DeleteAsync(string prefix, CancellationToken cancellation = default)
    {
        foreach (var name in await ListAsync(prefix, cancellation)) await container.DeleteBlobIfExistsAsync(name, cancellationToken: cancellation);
    }

    public async Task<string> MaterializeAsync(string prefix, CancellationToken cancellation = default)
    {
        var local = Path.Combine(cacheRoot, prefix.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(local);
        foreach (var name in await ListAsync(prefix, cancellation))
        {
            var target = Path.Combine(local, Path.GetRelativePath(prefix, name));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (File.Exists(target)) continue;
            // Download beside the target and rename: a download cut short must not pass for the file.
            var partial = $"{target}.{Guid.NewGuid():N}.partial";
            await container.GetBlobClient(name).DownloadToAsync(partial, cancellation);
            File.Move(partial, target, overwrite: true);
        }
        return local;
    }
}
