using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Grains.Services;

/// <summary>
/// Turns a spec path into a path on this silo's disk: a silo path stays as it is, an
/// <see cref="ArtifactReference"/> is materialized from the artifact store (downloaded once when the
/// store is remote). A reference names a file (<c>datasets/{sha256}/train.jsonl</c>, kept under its
/// own name so dataset errors still say <c>train.jsonl:12</c>) or a folder (<c>models/{sha256}</c>).
/// </summary>
public static class ArtifactInputs
{
    public static async Task<string> LocalPathAsync(this IArtifactStore store, string path, CancellationToken cancellation = default)
    {
        if (!ArtifactReference.IsReference(path)) return path;
        var storePath = ArtifactReference.StorePath(path).TrimEnd('/');
        var slash = storePath.LastIndexOf('/');
        if (slash > 0 && await store.ExistsAsync(storePath, cancellation))
            return Path.Combine(await store.MaterializeAsync(storePath[..slash], cancellation), storePath[(slash + 1)..]);
        if ((await store.ListAsync(storePath, cancellation)).Count == 0)
            throw new FileNotFoundException($"'{path}' is not in the artifact store ({store.Describe}); submit the job with rft submit, which uploads it.");
        return await store.MaterializeAsync(storePath, cancellation);
    }
}
