using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Orleans.Rft.Evaluators;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Client.Jobs;

/// <summary>
/// Uploads a job's local inputs — dataset, eval dataset, base model folder — to the cluster's
/// artifact store through <see cref="IArtifactUploadGrain"/> and rewrites the spec to
/// <see cref="ArtifactReference"/>s (and the evaluator's files inlined), so silos on other machines
/// need no shared volume. Paths are content-addressed (SHA-256), so resubmitting the same files
/// sends nothing.
/// </summary>
public sealed class ArtifactUploader(IGrainFactory grains, Action<string>? progress = null)
{
    static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);

    public long BytesSent { get; private set; }

    public async Task<JobSpec> UploadInputs(JobSpec spec, CancellationToken cancellation)
    {
        return spec with
        {
            BaseModel = await UploadModelFolder(spec.BaseModel, cancellation),
            BaseModelName = spec.BaseModelDisplayName,
            Dataset = await UploadDataset(spec.Dataset, cancellation),
            EvalDataset = spec.EvalDataset is null ? null : await UploadDataset(spec.EvalDataset, cancellation),
            EvaluatorJson = EvaluatorFactory.WithFilesInlined(JsonNode.Parse(spec.EvaluatorJson)!.AsObject(), "evaluator", spec.BaseDirectory).ToJsonString(),
        };
    }

    async Task<string> UploadDataset(string path, CancellationToken cancellation)
    {
        var sha = await Sha256(path, cancellation);
        await UploadFile(path, sha, cancellation);
        return ArtifactReference.ForFile(sha, Path.GetFileName(path));
    }

    /// <summary>
    /// A model folder is its files, each uploaded by its own SHA-256, plus a manifest of names and
    /// hashes uploaded the same way; the folder's address is the manifest's SHA-256, so any changed
    /// file gives a new folder.
    /// </summary>
    async Task<string> UploadModelFolder(string folder, CancellationToken cancellation)
    {
        var files = Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal).ToList();
        var hashes = new List<(string File, string Sha)>();
        foreach (var file in files) hashes.Add((file, await Sha256(file, cancellation)));
        foreach (var (file, sha) in hashes) await UploadFile(file, sha, cancellation);
        var manifest = System.Text.Encoding.UTF8.GetBytes(ArtifactReference.Manifest(hashes.Select(h => (Path.GetFileName(h.File), h.Sha))));
        var manifestSha = Convert.ToHexStringLower(SHA256.HashData(manifest));
        await Upload(new MemoryStream(manifest), manifestSha, "manifest", cancellation);
        return ArtifactReference.ForFolder(manifestSha);
    }

    async Task UploadFile(string path, string sha, CancellationToken cancellation)
    {
        await using var stream = File.OpenRead(path);
        await Upload(stream, sha, Path.GetFileName(path), cancellation);
    }

    /// <summary>A lost activation (a silo restart) forgets a session's bytes; past this many fresh starts of one file the upload fails.</summary>
    const int MaxRestarts = 3;

    /// <summary>
    /// Sends <paramref name="stream"/> to the upload grain of its SHA-256 under a session of its own,
    /// from wherever an interrupted upload stopped; a chunk the grain refuses (its activation was lost,
    /// so it expects another offset) makes the client ask again where to resume.
    /// </summary>
    async Task Upload(Stream stream, string sha, string label, CancellationToken cancellation)
    {
        var upload = grains.GetGrain<IArtifactUploadGrain>(sha);
        var session = Guid.NewGuid();
        var size = stream.Length;
        var offset = await upload.Begin(session, sha, size).WaitAsync(CallTimeout, cancellation);
        if (offset == size && size > 0) { progress?.Invoke($"{label}: already in the cluster"); return; }
        var buffer = new byte[MessageLimits.MaxChunkBytes];
        for (int restarts = 0; offset < size;)
        {
            stream.Position = offset;
            var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, size - offset)), cancellation);
            try { await upload.Append(session, offset, buffer[..read]).WaitAsync(CallTimeout, cancellation); }
            catch (InvalidOperationException) when (++restarts <= MaxRestarts)
            {
                offset = await upload.Begin(session, sha, size).WaitAsync(CallTimeout, cancellation);
                if (offset == size) return; // stored meanwhile by another client
                continue;
            }
            offset += read;
            BytesSent += read;
        }
        await upload.Complete(session).WaitAsync(TimeSpan.FromMinutes(5), cancellation);
        progress?.Invoke($"{label}: uploaded {size:N0} bytes");
    }

    static async Task<string> Sha256(string path, CancellationToken cancellation)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellation));
    }
}
