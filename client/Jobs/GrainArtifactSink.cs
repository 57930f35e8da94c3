using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Client.Jobs;

/// <summary>Uploads through <see cref="IArtifactUploadGrain"/>, in chunks of one grain message each.</summary>
public sealed class GrainArtifactSink(IGrainFactory grains) : IArtifactSink
{
    static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);

    /// <summary>A lost activation (a silo restart) forgets a session's bytes; past this many fresh starts of one file the upload fails.</summary>
    const int MaxRestarts = 3;

    /// <summary>
    /// Sends <paramref name="stream"/> to the upload grain of its SHA-256 under a session of its own,
    /// from wherever an interrupted upload stopped; a chunk the grain refuses (its activation was lost,
    /// so it expects another offset) makes the client ask again where to resume.
    /// </summary>
    public async Task<long> Upload(Stream stream, string sha, string label, Action<string>? progress, CancellationToken cancellation)
    {
        var upload = grains.GetGrain<IArtifactUploadGrain>(sha);
        var session = Guid.NewGuid();
        var size = stream.Length;
        long sent = 0;
        var offset = await upload.Begin(session, sha, size).WaitAsync(CallTimeout, cancellation);
        if (offset == size && size > 0) { progress?.Invoke($"{label}: already in the cluster"); return 0; }
        var buffer = new byte[MessageLimits.MaxChunkBytes];
        for (int restarts = 0; offset < size;)
        {
            stream.Position = offset;
            var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, size - offset)), cancellation);
            try { await upload.Append(session, offset, buffer[..read]).WaitAsync(CallTimeout, cancellation); }
            catch (InvalidOperationException) when (++restarts <= MaxRestarts)
            {
                offset = await upload.Begin(session, sha, size).WaitAsync(CallTimeout, cancellation);
                if (offset == size) return sent; // stored meanwhile by another client
                continue;
            }
            offset += read;
            sent += read;
        }
        await upload.Complete(session).WaitAsync(TimeSpan.FromMinutes(5), cancellation);
        progress?.Invoke($"{label}: uploaded {size:N0} bytes");
        return sent;
    }
}
