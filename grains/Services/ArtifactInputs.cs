using System.Text;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Grains.Services;

/// <summary>
/// Turns a spec path into a path on this silo's disk. An <see cref="ArtifactReference"/> is
/// materialized from the artifact store (downloaded once when the store is remote): an uploaded file
/// keeps its own name (so dataset errors still say <c>train.jsonl:12</c>), an uploaded folder is
/// assembled from its manifest. Those two forms are all a spec may name: <c>artifact:jobs</c> would
/// download the whole store into one pinned folder, <c>artifact:jobs/{other}/…</c> read another
/// job's outputs. Materializing again fetches only files missing from the cache. A path on the
/// silo's disk is read only where the store allows local paths (<c>Rft:AllowLocalPaths</c>): on a
/// cluster a job spec must not be able to name <c>/etc/…</c> on a silo.
/// </summary>
public static class ArtifactInputs
{
    /// <summary>Manifests list a model folder's files; 1 MiB is thousands of lines, far more than any model has.</summary>
    const int MaxManifestBytes = 1 << 20;

    /// <summary>Tries before giving up when every materialization is evicted before it can be pinned (a cache far too small for what runs at once).</summary>
    const int LeaseAttempts = 3;

    /// <summary>
    /// <see cref="LocalPathAsync"/>, pinned in the blob cache until the lease is disposed. A folder
    /// evicted between its materialization and the pin is materialized again.
    /// </summary>
    public static Task<ArtifactLease> LeaseAsync(this IArtifactStore store, string path, string? field = null, CancellationToken cancellation = default) =>
        Lease(store, path, () => store.LocalPathAsync(path, field, cancellation));

    /// <summary><see cref="IArtifactStore.MaterializeAsync"/> (a job's own outputs: an adapter, a checkpoint), pinned until disposed.</summary>
    public static Task<ArtifactLease> LeaseFolderAsync(this IArtifactStore store, string prefix, CancellationToken cancellation = default) =>
        Lease(store, prefix, () => store.MaterializeAsync(prefix, cancellation));

    static async Task<ArtifactLease> Lease(IArtifactStore store, string path, Func<Task<string>> materialize)
    {
        for (int attempt = 1; ; attempt++)
        {
            var local = await materialize();
            if (store.TryPin(local) is { } pin)
            {
                // A store that never evicts has nothing to re-fetch: a missing local path is the caller's error to report.
                if (pin == ArtifactLease.NothingToPin || File.Exists(local) || Directory.Exists(local)) return new ArtifactLease(store, local, pin);
                pin.Dispose();
            }
            if (attempt == LeaseAttempts)
                throw new IOException($"'{path}' was evicted from the artifact cache {LeaseAttempts} times before it could be used; raise Rft:ArtifactCacheMiB above the size of the models and adapters in use at once.");
        }
    }

    /// <param name="field">the spec field naming <paramref name="path"/>, for errors (base_model, dataset…)</param>
    public static async Task<string> LocalPathAsync(this IArtifactStore store, string path, string? field = null, CancellationToken cancellation = default)
    {
        if (!ArtifactReference.IsReference(path)) return store.CheckedLocalPath(path);
        var reference = ArtifactPaths.Checked(ArtifactReference.StorePath(path));
        var parts = reference.Split('/');
        if (parts is ["sha256", var sha, var name] && ArtifactReference.IsSha256(sha))
        {
            var upload = ArtifactReference.UploadPath(sha);
            if (!await store.ExistsAsync(upload, cancellation)) throw Missing(path, store);
            return Path.Combine(await store.MaterializeFilesAsync(reference, [(ArtifactReference.CheckedName(name), upload)], cancellation), name);
        }
        if (parts is ["folder", var manifestSha] && ArtifactReference.IsSha256(manifestSha))
            return await store.MaterializeFilesAsync(reference, await ReadManifest(store, path, manifestSha, cancellation), cancellation);
        throw new ArgumentException($"{(field is null ? "" : field + ": ")}'{path}' is not an uploaded file ({ArtifactReference.Scheme}sha256/<hex>/<name>) or folder ({ArtifactReference.Scheme}folder/<hex>), the only {ArtifactReference.Scheme} forms a job may read; give the local path and submit with rft submit, which uploads it.");
    }

    /// <summary><paramref name="path"/> itself where the silo may read its own disk; otherwise an error saying how to send the file instead.</summary>
    public static string CheckedLocalPath(this IArtifactStore store, string path) => store.AllowLocalPaths
        ? path
        : throw new ArgumentException($"'{path}' is a path on the silo's disk, and this cluster reads only {ArtifactReference.Scheme} references; submit with rft submit, which uploads local files, or let the silos read local paths with Rft:AllowLocalPaths=true.");

    /// <summary>The folder that an evaluator's schema files resolve against, or null where the silo may not read its disk (file schemas are then refused).</summary>
    public static string? LocalFolderOrNull(this IArtifactStore store, string baseDirectory) => store.AllowLocalPaths ? baseDirectory : null;

    static async Task<IReadOnlyList<(string Name, string StorePath)>> ReadManifest(IArtifactStore store, string path, string sha, CancellationToken cancellation)
    {
        var bytes = await store.ReadAsync(ArtifactReference.UploadPath(sha), cancellation) ?? throw Missing(path, store);
        if (bytes.Length > MaxManifestBytes) throw new InvalidDataException($"'{path}': the folder manifest is over {MaxManifestBytes:N0} bytes; upload the folder again with rft submit.");
        var files = new List<(string, string)>();
        foreach (var line in Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var space = line.LastIndexOf(' ');
            var (name, fileSha) = space > 0 ? (line[..space], line[(space + 1)..]) : ("", "");
            if (!ArtifactReference.IsSha256(fileSha)) throw new InvalidDataException($"'{path}': a manifest line is not '<name> <sha256>'; upload the folder again with rft submit.");
            var upload = ArtifactReference.UploadPath(fileSha);
            if (!await store.ExistsAsync(upload, cancellation)) throw Missing($"{path} ({name})", store);
            files.Add((ArtifactReference.CheckedName(name), upload));
        }
        return files;
    }

    static FileNotFoundException Missing(string path, IArtifactStore store) =>
        new($"'{path}' is not in the artifact store ({store.Describe}); submit the job with rft submit, which uploads it.");
}
