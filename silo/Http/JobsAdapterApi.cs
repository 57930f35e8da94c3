using System.IO.Compression;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans.Rft.GrainInterfaces;

namespace Orleans.Rft.Silo.Http;

/// <summary>
/// <c>GET /v1/rft/jobs/{id}/adapter[?step=N]</c>: the job's PEFT adapter folder as a zip
/// (<c>adapter_config.json</c>, <c>adapter_model.safetensors</c>), what HF PEFT and vLLM load after unzipping.
/// The weights stream from the job grain in chunks of one grain message each, never whole in memory; the
/// headers say the step. A failure after the first byte aborts the connection, so a client sees a broken
/// download rather than a zip that merely looks complete.
/// </summary>
public static class JobsAdapterApi
{
    static readonly TimeSpan ChunkTimeout = TimeSpan.FromSeconds(60);

    public static RouteHandlerBuilder MapJobsAdapterApi(this IEndpointRouteBuilder jobs) => jobs.MapGet("/{id}/adapter", Download);

    static async Task Download(string id, HttpContext http, IGrainFactory grains, Microsoft.Extensions.Logging.ILoggerFactory logs)
    {
        var cancellation = http.RequestAborted;
        var step = JobsQuery.Int(http.Request, "step", 0, int.MaxValue);
        await JobsGrainCalls.Snapshot(grains, id, cancellation);
        var job = grains.GetGrain<IJobGrain>(id);
        var info = await JobsGrainCalls.Call(id, () => job.GetAdapter(step), cancellation, "step", ChunkTimeout, conflictCode: "no_adapter");
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "application/zip";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{id}-step{info.Step}-adapter.zip\"";
        http.Response.Headers["X-Rft-Adapter-Step"] = info.Step.ToString(System.Globalization.CultureInfo.InvariantCulture);
        http.Response.Headers["X-Rft-Policy-Version"] = info.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            var pending = new PendingWrites();
            await using (var zip = await ZipArchive.CreateAsync(pending, ZipArchiveMode.Create, leaveOpen: true, entryNameEncoding: null, cancellation))
            {
                await using (var config = await zip.CreateEntry("adapter_config.json", CompressionLevel.Optimal).OpenAsync(cancellation))
                    await config.WriteAsync(System.Text.Encoding.UTF8.GetBytes(info.ConfigJson), cancellation);
                // Stored, not deflated: float weights barely compress, and streaming them as they come keeps the first byte early.
                await using (var weights = await zip.CreateEntry("adapter_model.safetensors", CompressionLevel.NoCompression).OpenAsync(cancellation))
                    for (long offset = 0; offset < info.WeightsBytes;)
                    {
                        var at = offset;
                        var chunk = await job.GetAdapterChunk(info.ArtifactPath, at, MessageLimits.MaxChunkBytes).WaitAsync(ChunkTimeout, cancellation);
                        if (chunk.Length == 0) throw new IOException($"the adapter weights of {info.ArtifactPath} ended at {offset} of {info.WeightsBytes} bytes.");
                        await weights.WriteAsync(chunk, cancellation);
                        await pending.DrainAsync(http.Response.Body, cancellation);
                        offset += chunk.Length;
                    }
            }
            await pending.DrainAsync(http.Response.Body, cancellation);
        }
        catch (Exception e) when (!cancellation.IsCancellationRequested)
        {
            logs.CreateLogger("Orleans.Rft.Silo.Http").LogRequestFailure(http.Request.Path, e);
            http.Abort(); // the status was sent: a cut connection is the only honest way left to say "incomplete"
        }
    }

    /// <summary>
    /// What the zip writer writes, held until drained to the response asynchronously: the writer still
    /// writes some headers synchronously, which Kestrel refuses (a blocked thread per download). Holds one
    /// chunk at most between drains.
    /// </summary>
    sealed class PendingWrites : Stream
    {
        readonly MemoryStream buffer = new();
        long written;

        public async Task DrainAsync(Stream target, CancellationToken cancellation)
        {
            if (buffer.Length == 0) return;
            await target.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cancellation);
            await target.FlushAsync(cancellation);
            buffer.SetLength(0);
        }

        public override void Write(byte[] data, int offset, int count) { buffer.Write(data, offset, count); written += count; }
        public override void Write(ReadOnlySpan<byte> data) { buffer.Write(data); written += data.Length; }
        public override Task WriteAsync(byte[] data, int offset, int count, CancellationToken cancellationToken) { Write(data, offset, count); return Task.CompletedTask; }
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) { Write(data.Span); return ValueTask.CompletedTask; }
        public override void Flush() { }
        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => written; set => throw new NotSupportedException(); }
        public override int Read(byte[] data, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
