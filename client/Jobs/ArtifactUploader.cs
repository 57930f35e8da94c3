using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Orleans.Rft.Evaluators;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Client.Jobs;

/// <summary>
/// Uploads a job's local inputs — dataset, eval dataset, base model folder — to the cluster's
/// artifact store and rewrites the spec to
/// <see cref="ArtifactReference"/>s (and the evaluator's files inlined), so silos on other machines
/// need no shared volume. Paths are content-addressed (SHA-256), so resubmitting the same files
/// sends nothing. How the bytes travel is the <see cref="IArtifactSink"/>'s business (grain calls or HTTP).
/// </summary>
public sealed class ArtifactUploader(IArtifactSink sink, Action<string>? progress = null)
{
    public ArtifactUploader(IGrainFactory grains, Action<string>? progress = null) : this(new GrainArtifactSink(grains), progress) { }

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

    async Task Upload(Stream stream, string sha, string label, CancellationToken cancellation) =>
        BytesSent += await sink.Upload(stream, sha, label, progress, cancellation);

    static async Task<string> Sha256(string path, CancellationToken cancellation)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellation));
    }
}
