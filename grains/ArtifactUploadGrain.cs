using System.Security.Cryptography;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Grains.Services;

namespace Orleans.Rft.Grains;

/// <summary>
/// Stages uploads of one file in temporary files on its silo and moves one into the artifact store
/// once size and SHA-256 check out. The key is the content's SHA-256 and the store path is derived
/// from it (<see cref="ArtifactReference.UploadPath"/>), never chosen by the client: what lies at
/// <c>uploads/sha256/{hex}</c> always hashes to <c>{hex}</c>, so "already there" is a safe shortcut
/// and no upload can overwrite a job's files. Each client session stages its own file, so two
/// submits of the same new file at once never see each other's offsets, and one's Complete never
/// discards the other's bytes (the second finds the file stored and stops). Staging on disk rather
/// than in memory keeps model-sized uploads out of the heap; if the activation is lost mid-upload,
/// <see cref="Begin"/> reports 0 bytes and the client starts that file again.
/// </summary>
public sealed class ArtifactUploadGrain(IArtifactStore artifacts, UploadLimits limits) : Grain, IArtifactUploadGrain
{
    /// <summary>Concurrent sessions per file; past it a session idle for <see cref="IdleSession"/> makes room, else Begin refuses.</summary>
    const int MaxSessions = 8;
    static readonly TimeSpan IdleSession = TimeSpan.FromMinutes(5);

    sealed class Staging(string file, long size)
    {
        public string File { get; } = file;
        public long Size { get; } = size;
        public long Received { get; set; }
        public DateTime LastUsed { get; set; } = DateTime.UtcNow;
    }

    readonly Dictionary<Guid, Staging> sessions = new();

    /// <summary>Checked on use, so a key that is not a SHA-256 fails every call with the reason.</summary>
    string StorePath => ArtifactReference.UploadPath(Key);
    string Key => this.GetPrimaryKeyString();

    public async Task<long> Begin(Guid session, string sha256, long size)
    {
        if (size < 0) throw new ArgumentException("size must be ≥ 0.");
        if (size > limits.MaxBytes) throw new ArgumentException($"the upload is {size:N0} bytes; this cluster takes at most {limits.MaxBytes:N0} (Rft:MaxUploadMiB).");
        sha256 = sha256.ToLowerInvariant();
        if (sha256 != Key) throw new ArgumentException($"upload key '{Key}' must be the content's lower-case SHA-256 ('{sha256}').");
        if (await artifacts.ExistsAsync(StorePath)) return size;
        if (sessions.TryGetValue(session, out var known) && known.Size == size)
        {
            known.LastUsed = DateTime.UtcNow;
            return known.Received;
        }
        Discard(session);
        foreach (var idle in sessions.Where(s => DateTime.UtcNow - s.Value.LastUsed > IdleSession).Select(s => s.Key).ToList()) Discard(idle);
        if (sessions.Count >= MaxSessions)
            throw new InvalidOperationException($"upload of {Key}: {MaxSessions} uploads of this file are in progress; try again once one has finished.");
        var staging = Path.Combine(Path.GetTempPath(), "orleans-rft", "uploads", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.GetDirectoryName(staging)!);
        await File.WriteAllBytesAsync(staging, []);
        sessions[session] = new Staging(staging, size);
        return 0;
    }

    public async Task Append(Guid session, long offset, byte[] chunk)
    {
        if (!sessions.TryGetValue(session, out var s)) throw new InvalidOperationException($"upload of {Key}: no upload in progress for this session (Append before Begin, or the silo restarted); call Begin.");
        if (chunk.Length > MessageLimits.MaxChunkBytes) throw new ArgumentException($"chunks are at most {MessageLimits.MaxChunkBytes} bytes (got {chunk.Length}).");
        if (offset != s.Received) throw new InvalidOperationException($"upload of {Key}: chunk at {offset}, expected {s.Received}; call Begin to resume.");
        // The client's mistake, not a race: a 400 naming how much may still come, never a "resume from" 409.
        if (s.Received + chunk.Length > s.Size) throw new ArgumentException($"upload of {Key}: {chunk.Length} bytes at {offset} pass the announced size of {s.Size} bytes; send at most {s.Size - s.Received} more, or start again with the right size.");
        await using (var stream = new FileStream(s.File, FileMode.Append, FileAccess.Write))
            await stream.WriteAsync(chunk);
        s.Received += chunk.Length;
        s.LastUsed = DateTime.UtcNow;
    }

    public async Task Complete(Guid session)
    {
        if (!sessions.TryGetValue(session, out var s))
        {
            if (await artifacts.ExistsAsync(StorePath)) return; // nothing staged: the file was there at Begin (or an empty one)
            throw new InvalidOperationException($"upload of {Key}: Complete before Begin (or the silo restarted); call Begin.");
        }
        // Early, not a failed check: the session keeps its bytes, and the client sends the rest.
        if (s.Received != s.Size) throw new InvalidOperationException($"upload of {Key}: {s.Received} of {s.Size} bytes arrived; send the rest from offset {s.Received}, then complete.");
        try
        {
            if (await artifacts.ExistsAsync(StorePath)) return; // another session stored the same bytes meanwhile
            string actual;
            await using (var stream = File.OpenRead(s.File))
                actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream));
            if (actual != Key) throw new InvalidDataException($"upload of {Key}: SHA-256 {actual} differs from the announced {Key}; the upload was discarded.");
            await artifacts.WriteFileAsync(StorePath, s.File);
        }
        finally
        {
            Discard(session);
            if (sessions.Count == 0) DeactivateOnIdle();
        }
    }

    void Discard(Guid session)
    {
        if (!sessions.Remove(session, out var s)) return;
        if (File.Exists(s.File)) File.Delete(s.File);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        foreach (var session in sessions.Keys.ToList()) Discard(session);
        return Task.CompletedTask;
    }
}
