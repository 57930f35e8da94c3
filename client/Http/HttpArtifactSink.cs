using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Orleans.Rft.Client.Jobs;
using Orleans.Rft.GrainInterfaces;
using Orleans.Rft.Silo.Http;

namespace Orleans.Rft.Client.Http;

/// <summary>
/// Uploads over the jobs API (<see cref="ArtifactsApi"/>): begin, chunks of at most 4 MiB each at its offset,
/// complete. A dropped connection or a chunk the server refuses at that offset is resumed in the same
/// session from what the server says it has (<c>received</c>), so a flaky link costs a chunk, not the file.
/// The session id is kept in a small file until the upload completes, so an <c>rft submit</c> that was
/// killed resumes too: the next one sends the same session and goes on from the silo's count (the silo
/// drops a session idle for 5 minutes, and then the file starts again).
/// </summary>
public sealed class HttpArtifactSink(RftHttpClient client, string? sessionsDirectory = null) : IArtifactSink
{
    readonly string sessions = sessionsDirectory ?? Path.Combine(Path.GetTempPath(), "rft-uploads");

    static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);
    /// <summary>A chunk of 4 MiB over a slow uplink: 2 minutes is 35 KB/s.</summary>
    static readonly TimeSpan ChunkTimeout = TimeSpan.FromMinutes(2);
    /// <summary>Completing hashes the whole file on a silo; the server allows itself 5 minutes.</summary>
    static readonly TimeSpan CompleteTimeout = TimeSpan.FromMinutes(6);
    /// <summary>Failed chunks in a row before the upload gives up (each retry resumes from the server's count).</summary>
    const int MaxRetries = 5;

    public async Task<long> Upload(Stream stream, string sha, string label, Action<string>? progress, CancellationToken cancellation)
    {
        var size = stream.Length;
        var sessionFile = Path.Combine(sessions, $"{sha}-{size}.session");
        Guid? saved = File.Exists(sessionFile) && Guid.TryParse(File.ReadAllText(sessionFile).Trim(), out var g) ? g : null;
        var state = await Begin(sha, size, saved, cancellation);
        if (state.Stored) { Forget(sessionFile); progress?.Invoke($"{label}: already in the cluster"); return 0; }
        var session = state.Session;
        if (saved != session)
        {
            Directory.CreateDirectory(sessions);
            File.WriteAllText(sessionFile, session.ToString());
        }
        if (state.Received > 0) progress?.Invoke($"{label}: resuming at {state.Received:N0} of {size:N0} bytes");
        long offset = state.Received ?? 0, sent = 0;
        var buffer = new byte[ArtifactsApi.MaxChunkBytes];
        for (int failures = 0; offset < size;)
        {
            stream.Position = offset;
            var read = await stream.ReadAtLeastAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, size - offset)), (int)Math.Min(buffer.Length, size - offset), throwOnEndOfStream: true, cancellation);
            try
            {
                var progressed = await client.SendAsync<UploadProgress>(HttpMethod.Put, $"v1/rft/artifacts/{sha}/sessions/{session}?offset={offset}", null, ChunkTimeout, cancellation, request =>
                {
                    request.Content = new ByteArrayContent(buffer, 0, read);
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                });
                sent += progressed.Received - offset;
                offset = progressed.Received;
                failures = 0;
            }
            catch (Exception e) when (e is ClusterUnavailableException or RftHttpRefusal { Code: "upload_offset" } && ++failures <= MaxRetries && !cancellation.IsCancellationRequested)
            {
                // the connection dropped, or the server has another count than ours: ask where to go on (a silo restart starts the file again)
                await Task.Delay(TimeSpan.FromSeconds(failures), cancellation);
                state = await Begin(sha, size, session, cancellation);
                if (state.Stored) { Forget(sessionFile); return sent; }
                offset = state.Received ?? 0;
            }
        }
        try { await client.SendAsync<UploadState>(HttpMethod.Post, $"v1/rft/artifacts/{sha}/sessions/{session}:complete", null, CompleteTimeout, cancellation); }
        catch (RftHttpRefusal) { Forget(sessionFile); throw; } // the silo dropped the session's bytes (a hash mismatch): the next try starts afresh
        Forget(sessionFile);
        progress?.Invoke($"{label}: uploaded {size:N0} bytes");
        return sent;
    }

    static void Forget(string sessionFile)
    {
        if (File.Exists(sessionFile)) File.Delete(sessionFile);
    }

    Task<UploadState> Begin(string sha, long size, Guid? session, CancellationToken cancellation)
    {
        var body = new JsonObject { ["sha256"] = sha, ["size"] = size };
        if (session is Guid s) body["session"] = s.ToString();
        return client.SendAsync<UploadState>(HttpMethod.Post, "v1/rft/artifacts", body, CallTimeout, cancellation);
    }
}
