using System.Text;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Grains.Services;

/// <summary>
/// Turns a spec path into a path on this silo's disk. An <see cref="ArtifactReference"/> is
/// materialized from the artifact store (downloaded once when the store is remote): an uploaded file
/// keeps its own name (so dataset errors still say <c>train.jsonl:12</c>), an uploaded folder is
/// assembled from its manifest, and any other store path is materialized as it is. A path on the
/// silo's disk is read only where the store allows local paths (<c>Rft:AllowLocalPaths</c>): on a
/// cluster a job spec must not be able to name <c>/etc/…</c> on a silo.
/// </summary>
public static class ArtifactInputs
{
    /// <summary>Manifests list a model folder's files; 1 MiB is thousands of lines, far more than any model has.</summary>
    const int MaxManifestBytes = 1 << 20;

    public static async Task<string> LocalPathAsync(this IArtifactStore store, string path, CancellationToken cancellation = default)
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
        // A single stored file is materialized alone (not its whole parent folder), under its own name.
        var fileName = parts[^1];
        if (await store.ExistsAsync(reference, cancellation))
            return Path.Combine(await store.MaterializeFilesAsync(reference, [(fileName, reference)], cancellation), fileName);
        if ((await store.ListAsync(reference, cancellation)).Count == 0) throw Missing(path, store);
        return await store.MaterializeAsync(reference, cancellation);
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
