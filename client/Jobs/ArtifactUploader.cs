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
        var storePath = $"datasets/{sha}/{Path.GetFileName(path)}";
        await UploadFile(path, sha, storePath, cancellation);
        return ArtifactReference.For(storePath);
    }

    /// <summary>A model folder's address is the SHA-256 of its files' names and hashes, so any changed file gives a new folder.</summary>
    async Task<string> UploadModelFolder(string folder, CancellationToken cancellation)
    {
        var files = Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal).ToList();
        var hashes = new List<(string File, string Sha)>();
        foreach (var file in files) hashes.Add((file, await Sha256(file, cancellation)));
        var manifest = string.Join('\n', hashes.Select(h => $"{Path.GetFileName(h.File)} {h.Sha}"));
        var folderSha = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(manifest)));
        foreach (var (file, sha) in hashes)
            await UploadFile(file, sha, $"models/{folderSha}/{Path.GetFileName(file)}", cancellation);
        return ArtifactReference.For($"models/{folderSha}");
    }

    async Task UploadFile(string path, string sha, string storePath, CancellationToken cancellation)
    {
        var upload = grains.GetGrain<IArtifactUploadGrain>(storePath);
        var size = new FileInfo(path).Length;
        var offset = await upload.Begin(sha, size).WaitAsync(CallTimeout, cancellation);
        if (offset == size && size > 0) { progress?.Invoke($"{Path.GetFileName(path)}: already in the cluster"); return; }
        await using var stream = File.OpenRead(path);
        stream.Position = offset;
        var buffer = new byte[MessageLimits.MaxChunkBytes];
        while (offset < size)
        {
            var read = await stream.ReadAsync(buffer, cancellation);
            await upload.Append(offset, buffer[..read]).WaitAsync(CallTimeout, cancellation);
            offset += read;
            BytesSent += read;
        }
        await upload.Complete().WaitAsync(TimeSpan.FromMinutes(5), cancellation);
        progress?.Invoke($"{Path.GetFileName(path)}: uploaded {size:N0} bytes");
    }

    static async Task<string> Sha256(string path, CancellationToken cancellation)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellation));
    }
}
