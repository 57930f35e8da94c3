using System.Security.Cryptography;
using System.Text.Json;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Grains.Jobs;

/// <summary>One file of a checkpoint: its path under the checkpoint, size and SHA-256 (hex).</summary>
public sealed record CheckpointFile(string Path, long Bytes, string Sha256);

/// <summary>
/// <c>manifest.json</c>, written last among a checkpoint's data: every other file with its size and
/// SHA-256. A checkpoint without one was cut short; one whose files disagree with it is damaged.
/// Either way a resume passes over it to the previous good checkpoint.
/// </summary>
public sealed record CheckpointManifest(int Step, IReadOnlyList<CheckpointFile> Files)
{
    public const string FileName = "manifest.json";

    /// <summary>Reads back every file stored under <paramref name="prefix"/> and writes their manifest.</summary>
    public static async Task WriteAsync(IArtifactStore artifacts, string prefix, int step)
    {
        var files = new List<CheckpointFile>();
        foreach (var path in (await artifacts.ListAsync(prefix)).Order(StringComparer.Ordinal))
        {
            var relative = path[(prefix.Length + 1)..];
            if (relative == FileName) continue;
            var bytes = await artifacts.ReadAsync(path) ?? throw new InvalidOperationException($"{path} vanished while checkpointing.");
            files.Add(new CheckpointFile(relative, bytes.LongLength, Convert.ToHexStringLower(SHA256.HashData(bytes))));
        }
        await artifacts.WriteAsync($"{prefix}/{FileName}", JsonSerializer.SerializeToUtf8Bytes(new CheckpointManifest(step, files)));
    }

    /// <summary>Null when the checkpoint under <paramref name="prefix"/> is whole; otherwise what is wrong with it.</summary>
    public static async Task<string?> VerifyAsync(IArtifactStore artifacts, string prefix)
    {
        var json = await artifacts.ReadAsync($"{prefix}/{FileName}");
        if (json is null) return $"{prefix} has no {FileName} (its write was cut short, or it was deleted)";
        CheckpointManifest? manifest;
        try { manifest = JsonSerializer.Deserialize<CheckpointManifest>(json); }
        catch (JsonException e) { return $"{prefix}/{FileName} is not valid JSON ({e.Message})"; }
        if (manifest is null || manifest.Files.Count == 0) return $"{prefix}/{FileName} lists no files";
        foreach (var file in manifest.Files)
        {
            var bytes = await artifacts.ReadAsync($"{prefix}/{file.Path}");
            if (bytes is null) return $"{prefix}/{file.Path} is missing";
            if (bytes.LongLength != file.Bytes) return $"{prefix}/{file.Path} has {bytes.LongLength} bytes, the manifest says {file.Bytes}";
            if (Convert.ToHexStringLower(SHA256.HashData(bytes)) != file.Sha256) return $"{prefix}/{file.Path} does not match its SHA-256 in the manifest";
        }
        return null;
    }
}
