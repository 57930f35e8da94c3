namespace Orleans.Rft.Grains.Services;

/// <summary>
/// Where datasets' derived files, adapters, checkpoints and rollout logs live: a local directory by
/// default, Azure Blob Storage in a cluster. Paths are relative, use '/' and are checked by
/// <see cref="ArtifactPaths.Checked"/>: no '..', no absolute path, no '\'.
/// </summary>
public interface IArtifactStore
{
    /// <summary>A human-readable root (directory or container URI) for messages.</summary>
    string Describe { get; }

    /// <summary>
    /// Whether job inputs may name files on the silo's own disk (<c>Rft:AllowLocalPaths</c>): on for the
    /// embedded <c>rft run</c> silo, off on a cluster, where only <c>artifact:</c> references are read.
    /// </summary>
    bool AllowLocalPaths { get; }
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

    /// <summary>
    /// A local folder, named by <paramref name="key"/>, holding stored files under the names given
    /// (a model folder assembled from content-addressed uploads).
    /// </summary>
    Task<string> MaterializeFilesAsync(string key, IReadOnlyList<(string Name, string StorePath)> files, CancellationToken cancellation = default);

    /// <summary>
    /// Keeps the materialized folder holding <paramref name="localPath"/> from eviction until disposed;
    /// null when it was evicted meanwhile (materialize again). A store that never evicts what it
    /// materialized pins nothing. Use <see cref="ArtifactInputs.LeaseAsync"/>, which retries.
    /// </summary>
    IDisposable? TryPin(string localPath) => ArtifactLease.NothingToPin;

    /// <summary>Uploads every file of a local folder under <paramref name="prefix"/>.</summary>
    async Task UploadDirectoryAsync(string localDirectory, string prefix, CancellationToken cancellation = default)
    {
        foreach (var file in Directory.EnumerateFiles(localDirectory))
            await WriteFileAsync($"{prefix}/{Path.GetFileName(file)}", file, cancellation);
    }
}
