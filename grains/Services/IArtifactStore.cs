namespace Orleans.Rft.Grains.Services;

/// <summary>
/// Where datasets' derived files, adapters, checkpoints and rollout logs live: a local directory by
/// default, Azure Blob Storage in a cluster. Paths are relative and use '/'.
/// </summary>
public interface IArtifactStore
{
    /// <summary>A human-readable root (directory or container URI) for messages.</summary>
    string Describe { get; }
    Task WriteAsync(string path, byte[] content, CancellationToken cancellation = default);
    /// <summary>Stores a local file under <paramref name="path"/> without reading it into memory (model-sized uploads).</summary>
    Task WriteFileAsync(string path, string localFile, CancellationToken cancellation = default);
    Task<byte[]?> ReadAsync(string path, CancellationToken cancellation = default);
    /// <summary>Whether a file (not a folder) is stored at <paramref name="path"/>.</summary>
    Task<bool> ExistsAsync(string path, CancellationToken cancellation = default);
    Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellation = default);
    Task DeleteAsync(string prefix, CancellationToken cancellation = default);

    /// <summary>A local folder holding the files under <paramref name="prefix"/> (downloaded if the store is remote).</summary>
    Task<string> MaterializeAsync(string prefix, CancellationToken cancellation = default);

    /// <summary>Uploads every file of a local folder under <paramref name="prefix"/>.</summary>
    async Task UploadDirectoryAsync(string localDirectory, string prefix, CancellationToken cancellation = default)
    {
        foreach (var file in Directory.EnumerateFiles(localDirectory))
            await WriteFileAsync($"{prefix}/{Path.GetFileName(file)}", file, cancellation);
    }
}
