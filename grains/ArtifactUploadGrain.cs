using System.Security.Cryptography;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Grains;

/// <summary>
/// Stages one uploaded file in a temporary file on its silo and moves it into the artifact store
/// once size and SHA-256 check out. The key is the content's SHA-256 and the store path is derived
/// from it (<see cref="ArtifactReference.UploadPath"/>), never chosen by the client: what lies at
/// <c>uploads/sha256/{hex}</c> always hashes to <c>{hex}</c>, so "already there" is a safe shortcut
/// and no upload can overwrite a job's files. Staging on disk rather than in memory keeps
/// model-sized uploads out of the heap; if the activation is lost mid-upload, <see cref="Begin"/>
/// reports 0 bytes and the client starts that file again.
/// </summary>
public sealed class ArtifactUploadGrain(IArtifactStore artifacts, UploadLimits limits) : Grain, IArtifactUploadGrain
{
    string? sha256;
    long size, received;
    string? staging;

    /// <summary>Checked on use, so a key that is not a SHA-256 fails every call with the reason.</summary>
    string StorePath => ArtifactReference.UploadPath(Key);
    string Key => this.GetPrimaryKeyString();

    public async Task<long> Begin(string sha256, long size)
    {
        if (size < 0) throw new ArgumentException("size must be ≥ 0.");
        if (size > limits.MaxBytes) throw new ArgumentException($"the upload is {size:N0} bytes; this cluster takes at most {limits.MaxBytes:N0} (Rft:MaxUploadMiB).");
        sha256 = sha256.ToLowerInvariant();
        if (sha256 != Key) throw new ArgumentException($"upload key '{Key}' must be the content's lower-case SHA-256 ('{sha256}').");
        if (await artifacts.ExistsAsync(StorePath)) return size;
        if (this.sha256 == sha256 && this.size == size && staging is not null) return received;
        Discard();
        this.sha256 = sha256;
        this.size = size;
        received = 0;
        staging = Path.Combine(Path.GetTempPath(), "orleans-rft", "uploads", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.GetDirectoryName(staging)!);
        await File.WriteAllBytesAsync(staging, []);
        return 0;
    }

    public async Task Append(long offset, byte[] chunk)
    {
        if (staging is null) throw new InvalidOperationException($"upload of {Key}: Append before Begin.");
        if (chunk.Length > MessageLimits.MaxChunkBytes) throw new ArgumentException($"chunks are at most {MessageLimits.MaxChunkBytes} bytes (got {chunk.Length}).");
        if (offset != received) throw new InvalidOperationException($"upload of {Key}: chunk at {offset}, expected {received}; call Begin to resume.");
        if (received + chunk.Length > size) throw new InvalidOperationException($"upload of {Key}: more than the announced {size} bytes.");
        await using (var stream = new FileStream(staging, FileMode.Append, FileAccess.Write))
            await stream.WriteAsync(chunk);
        received += chunk.Length;
    }

    public async Task Complete()
    {
        if (staging is null)
        {
            if (await artifacts.ExistsAsync(StorePath)) return; // an empty file that was already there: Begin had nothing to stage
            throw new InvalidOperationException($"upload of {Key}: Complete before Begin.");
        }
        try
        {
            if (received != size) throw new InvalidOperationException($"upload of {Key}: {received} of {size} bytes arrived.");
            string actual;
            await using (var stream = File.OpenRead(staging))
                actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream));
            if (actual != sha256) throw new InvalidDataException($"upload of {Key}: SHA-256 {actual} differs from the announced {sha256}; the upload was discarded.");
            await artifacts.WriteFileAsync(StorePath, staging);
        }
        finally
        {
            Discard();
            DeactivateOnIdle();
        }
    }

    void Discard()
    {
        if (staging is not null && File.Exists(staging)) File.Delete(staging);
        staging = null;
        received = 0;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        Discard();
        return Task.CompletedTask;
    }
}
